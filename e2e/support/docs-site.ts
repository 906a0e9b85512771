// A documentation page on another origin that embeds the lab, as docs/embed.md describes: an iframe
// with a title, buttons that drive it through the postMessage API (load a scenario, step to the next
// operation or the next exit), and a log of every message the lab sends back, shown on the page.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ScenarioDocument } from '../../src/model/scenario/document';

export interface DocsSite {
  url: string;
  close(): Promise<void>;
}

export async function serveDocsSite(labSrc: string, scenario: ScenarioDocument): Promise<DocsSite> {
  // The script is inline; JSON with "</" escaped cannot end it.
  const data = JSON.stringify({ labSrc, scenario }).replace(/</g, '\\u003c');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>KVM notes</title></head>
<body>
  <h1>KVM notes: EXIT_USERSPACE</h1>
  <p><button id="load">Load the example</button> <button id="op">Next operation</button> <button id="exit">Next exit</button></p>
  <iframe id="lab" title="exitscope: EXIT_USERSPACE" width="100%" height="560" style="border: 0"></iframe>
  <h2>What the lab said</h2>
  <ol id="heard" aria-label="Messages from the lab"></ol>
  <script>
    const { labSrc, scenario } = ${data};
    const lab = document.getElementById('lab');
    lab.src = labSrc;
    const send = (message) => lab.contentWindow.postMessage({ exitscope: 1, ...message }, '*');
    document.getElementById('load').onclick = () => send({ type: 'load', scenario });
    document.getElementById('op').onclick = () => send({ type: 'step', unit: 'op' });
    document.getElementById('exit').onclick = () => send({ type: 'step', unit: 'exit' });
    addEventListener('message', (e) => {
      if (e.source !== lab.contentWindow || e.data?.exitscope !== 1) return;
      const li = document.createElement('li');
      const d = e.data;
      li.textContent = d.type === 'state'
        ? \`state: \${d.title}, next \${d.next} of \${d.total}, exits \${d.exits.map((x) => \`vCPU \${x.vcpu}: \${x.exits}\`).join(', ')}, last \${d.last ? \`\${d.last.summary} = \${d.last.ret}\` : 'none'}\`
        : \`\${d.type}: \${d.message ?? ''}\`;
      document.getElementById('heard').append(li);
    });
  </script>
</body></html>`;
  const server = createServer((_, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(html);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
