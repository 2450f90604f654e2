// The links of a Markdown page and the anchors its headings get, for checking that the docs the
// package ships point only at what it ships.
import { posix } from 'node:path';

/** The text outside fenced code blocks and inline code spans, where links and headings are. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '``');
}

/** Every link target of the page that has no URL scheme (`[text](target)`), as written. */
export function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map(([, target]) => target ?? '')
    .filter((target) => !/^[a-z][a-z\d+.-]*:/i.test(target));
}

/** The anchors GitHub gives the page's headings: lower case, punctuation dropped, spaces as `-`, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = (heading ?? '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

/** The package path a link on the page at `page` (a package path) points to, and its anchor. */
export function linkTarget(page: string, link: string): { path: string; anchor: string | undefined } {
  const [path = '', anchor] = link.split('#', 2);
  return { path: path === '' ? page : posix.normalize(posix.join(posix.dirname(page), decodeURI(path))), anchor };
}
