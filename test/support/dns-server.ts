import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

const TYPE_A = 1;

/**
 * A DNS server for the tests, over UDP on 127.0.0.1: it answers A queries for the names it
 * is given from a script (one address per query, the last repeating), so that a name can
 * resolve one way, then another, as a rebinding attacker's would. Any other query gets an
 * empty answer (NOERROR), unknown names NXDOMAIN.
 */
export class TestDnsServer {
  private readonly scripts = new Map<string, string[]>();
  /** A queries seen, by name. */
  readonly queries = new Map<string, number>();

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
  ) {}

  static async start(): Promise<TestDnsServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const server = new TestDnsServer(socket, `127.0.0.1:${(socket.address() as AddressInfo).port}`);
    socket.on('message', (message, remote) => server.answer(message, remote));
    return server;
  }

  /** The name's A answers, one per query, in order; the last repeats. */
  resolve(name: string, ...addresses: string[]): void {
    this.scripts.set(name.toLowerCase(), addresses);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private answer(query: Buffer, remote: RemoteInfo): void {
    const { name, type, questionEnd } = parseQuestion(query);
    const script = this.scripts.get(name.toLowerCase());
    let address: string | undefined;
    if (script && type === TYPE_A) {
      this.queries.set(name, (this.queries.get(name) ?? 0) + 1);
      address = script.length > 1 ? script.shift() : script[0];
    }
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // the query's id
    const recursionDesired = query[2] & 0x01;
    header[2] = 0x80 | 0x04 | recursionDesired; // a response, authoritative
    header[3] = 0x80 | (script ? 0 : 3); // recursion available; NXDOMAIN for unknown names
    header.writeUInt16BE(1, 4); // one question
    header.writeUInt16BE(address ? 1 : 0, 6);
    const question = query.subarray(12, questionEnd);
    const parts = [header, question];
    if (address) {
      const record = Buffer.alloc(16);
      record.writeUInt16BE(0xc00c, 0); // the name, pointing at the question's
      record.writeUInt16BE(TYPE_A, 2);
      record.writeUInt16BE(1, 4); // class IN
      record.writeUInt32BE(0, 6); // TTL 0: never cached
      record.writeUInt16BE(4, 10);
      address.split('.').forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
      parts.push(record);
    }
    this.socket.send(Buffer.concat(parts), remote.port, remote.address);
  }
}

function parseQuestion(query: Buffer): { name: string; type: number; questionEnd: number } {
  const labels: string[] = [];
  let offset = 12;
  while (query[offset] !== 0) {
    const length = query[offset];
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += length + 1;
  }
  const type = query.readUInt16BE(offset + 1);
  return { name: labels.join('.'), type, questionEnd: offset + 5 };
}
