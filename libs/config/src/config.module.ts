import { Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Environment, environmentVariableNames, validateEnvironment } from './environment';

/**
 * Validated configuration for either app. @nestjs/config runs `validateEnvironment` once
 * at boot (a bad value stops the app, naming the variable); the rest of the code injects
 * the typed `Environment` rather than reading strings by name.
 */
@Global()
@Module({
  imports: [ConfigModule.forRoot({ ignoreEnvFile: true, validate: validateEnvironment })],
  providers: [
    {
      provide: Environment,
      inject: [ConfigService],
      useFactory: (config: ConfigService): Environment =>
        Object.assign(
          new Environment(),
          Object.fromEntries(environmentVariableNames().map((name) => [name, config.get(name)])),
        ),
    },
  ],
  exports: [Environment],
})
export class AppConfigModule {}
