import net from 'node:net';
import { Pool } from 'undici';
const srv = net.createServer((s) => s.on('data', (d) => { console.log(JSON.stringify(d.toString())); s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'); }));
await new Promise((r) => srv.listen(0, '127.0.0.1', r));
const pool = new Pool(`http://127.0.0.1:${srv.address().port}`);
const r = await pool.request({ path: '/x', method: 'HEAD', headers: { accept: 'a' } });
await r.body.dump(); await pool.close(); srv.close();
