// A small HTTP file server for the download tests: Range and If-Range like a real one, and faults on demand.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedFile {
  body: Buffer;
  etag?: string | undefined;
  /** Answers every request with the whole file (200), as servers without range support do. */
  ignoreRange?: boolean;
  /** Closes the connection after this many bytes of the body. */
  breakAfter?: number | undefined;
  /** Sends the body this slowly (bytes per 10 ms tick), for cancellation tests. */
  trickle?: number | undefined;
}

export class TestHttpServer {
  readonly requests: { path: string; headers: IncomingHttpHeaders }[] = [];
  readonly files = new Map<string, ServedFile>();
  private constructor(
    private readonly server: Server,
    readonly base: string,
  ) {}

  static async start(): Promise<TestHttpServer> {
    let self: TestHttpServer | undefined;
    const server = createServer((req, res) => self!.handle(req.url ?? '/', req.headers, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new TestHttpServer(server, `http://127.0.0.1:${port}`);
    return self;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(path: string, headers: IncomingHttpHeaders, res: import('node:http').ServerResponse): void {
    this.requests.push({ path, headers });
    const file = this.files.get(path);
    if (file === undefined) {
      res.writeHead(404, 'Not Found').end();
      return;
    }
    const size = file.body.length;
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(headers.range ?? '');
    const sameFile = headers['if-range'] === undefined || headers['if-range'] === file.etag;
    if (range && !file.ignoreRange && sameFile) {
      start = Number(range[1]);
      if (start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-range': `bytes ${start}-${size - 1}/${size}`,
        'content-length': size - start,
        ...(file.etag ? { etag: file.etag } : {}),
      });
    } else {
      res.writeHead(200, { 'content-length': size, ...(file.etag ? { etag: file.etag } : {}) });
    }
    const body = file.body.subarray(start);
    if (file.breakAfter !== undefined) {
      res.write(body.subarray(0, file.breakAfter), () => res.destroy());
    } else if (file.trickle !== undefined) {
      let sent = 0;
      const step = file.trickle;
      const tick = setInterval(() => {
        if (res.destroyed || sent >= body.length) {
          clearInterval(tick);
          res.end();
          return;
        }
        res.write(body.subarray(sent, sent + step));
        sent += step;
      }, 10);
    } else {
      res.end(body);
    }
  }
}
