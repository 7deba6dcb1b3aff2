// Preloaded into an app process (NODE_OPTIONS=--require=…) by tests that check what the
// app loads: on exit it writes the paths of every CommonJS module it loaded to the file
// named by REPORT_LOADED_MODULES_TO.
const { writeFileSync } = process.getBuiltinModule('node:fs');

process.on('exit', () => {
  writeFileSync(process.env.REPORT_LOADED_MODULES_TO, Object.keys(require.cache).join('\n'));
});
