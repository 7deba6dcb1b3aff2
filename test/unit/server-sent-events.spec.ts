import { ServerSentEventParser } from '../../libs/client/src/server-sent-events';

describe('the Server-Sent Events parser', () => {
  it('reads events split across chunks anywhere, skipping heartbeats', () => {
    const stream = ': heartbeat\n\nid: 7\nevent: status\ndata: {"a":1}\n\n:\n\nid: 8\r\nevent: status\r\ndata: {"a":2}\r\n\r\n';
    for (const size of [1, 2, 5, stream.length]) {
      const parser = new ServerSentEventParser();
      const events = [];
      for (let at = 0; at < stream.length; at += size) events.push(...parser.push(stream.slice(at, at + size)));
      expect(events).toEqual([
        { type: 'status', data: '{"a":1}', lastEventId: '7' },
        { type: 'status', data: '{"a":2}', lastEventId: '8' },
      ]);
    }
  });

  it('joins data lines, keeps the last id for events without one, reads retry, ignores unknown fields and a BOM', () => {
    const parser = new ServerSentEventParser();
    const events = parser.push('\uFEFFid: 3\ndata: one\ndata:two\nfoo: bar\n\ndata: three\nretry: 2500\n\nevent: x\n\n');
    expect(events).toEqual([
      { type: 'message', data: 'one\ntwo', lastEventId: '3' },
      { type: 'message', data: 'three', lastEventId: '3' },
    ]);
    expect(parser.retryMs).toBe(2500);
  });

  it('holds an event back until its blank line arrives (a cut-off event is never dispatched)', () => {
    const parser = new ServerSentEventParser();
    expect(parser.push('id: 1\nevent: status\ndata: {}\n')).toEqual([]);
    expect(parser.push('\r')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ type: 'status', data: '{}', lastEventId: '1' }]);
  });
});
