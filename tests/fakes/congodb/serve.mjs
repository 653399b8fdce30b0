// Starts CongoDB, an in-memory MongoDB wire-protocol server, on 127.0.0.1:<port>.
// Prints "listening <port>" once ready and exits when its standard input closes,
// so it never outlives the test run that started it.
import { CongoServer } from '@push.rocks/smartmongo/dist_ts/congodb/index.js';

const port = Number.parseInt(process.argv[2] ?? '27017', 10);
const server = new CongoServer({ port, host: '127.0.0.1', storage: 'memory' });
await server.start();
console.log(`listening ${port}`);

const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
