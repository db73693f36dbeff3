/** Build plugins both apps' Vite configs use (Node side, not part of the apps' bundles). */
import { gzipSync } from 'node:zlib';

import { parse } from '@formatjs/icu-messageformat-parser';
import type { Plugin } from 'vite';

const kB = (bytes: number) => (bytes / 1000).toFixed(1);

/** After a production build, prints the app's JavaScript gzipped: the total and each chunk. */
export function reportJsSize(app: string): Plugin {
  return {
    name: 'nudges-js-size',
    apply: 'build',
    generateBundle(_options, bundle) {
      const chunks = Object.values(bundle)
        .flatMap((file) => (file.type === 'chunk' ? [{ name: file.name, size: gzipSync(file.code).length }] : []))
        .sort((a, b) => b.size - a.size);
      const total = chunks.reduce((sum, chunk) => sum + chunk.size, 0);
      const parts = chunks.map((chunk) => `${chunk.name} ${kB(chunk.size)}`).join(' + ');
      console.log(`${app}: ${kB(total)} kB of JavaScript gzipped (${parts})`);
    },
  };
}

interface Node {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && typeof (value as Node).type === 'string';
}

/** Every `key: 'text'` property of the module, depth first. */
function* textProperties(node: unknown): Generator<Node & { value: Node & { value: string } }> {
  if (Array.isArray(node)) {
    for (const item of node) yield* textProperties(item);
    return;
  }
  if (!isNode(node)) return;
  const value = node.value;
  if (node.type === 'Property' && isNode(value) && value.type === 'Literal' && typeof value.value === 'string') {
    yield node as Node & { value: Node & { value: string } };
    return;
  }
  for (const [key, child] of Object.entries(node)) {
    if (key !== 'type' && typeof child === 'object') yield* textProperties(child);
  }
}

/** The catalogs (`files`) ship as parsed ICU messages, so the message parser stays out of the
 * bundle (react-intl takes `MessageFormatElement[]` as well as text). Build only: the tests
 * read the catalogs as written, and a message that does not parse fails the build. */
export function precompiledMessages(files: RegExp): Plugin {
  return {
    name: 'nudges-precompiled-messages',
    apply: 'build',
    enforce: 'post',
    config: () => ({
      resolve: {
        alias: [{ find: /^@formatjs\/icu-messageformat-parser$/, replacement: '@formatjs/icu-messageformat-parser/no-parser.js' }],
      },
    }),
    transform(code, id) {
      if (!files.test(id)) return null;
      let out = code;
      const properties = [...textProperties(this.parse(code))].sort((a, b) => b.value.start - a.value.start);
      for (const { value } of properties) {
        out = out.slice(0, value.start) + JSON.stringify(parse(value.value)) + out.slice(value.end);
      }
      return { code: out, map: null };
    },
  };
}
