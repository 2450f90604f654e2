export { runCommand, type CommandResult } from '../helpers/run-script.js';

/** The fenced code blocks of a Markdown text, with the line written just before each (its caption). */
export function codeBlocks(
  markdown: string,
): { readonly lang: string; readonly caption: string; readonly code: string }[] {
  const blocks: { lang: string; caption: string; code: string }[] = [];
  const fence = /(?:^|\n)([^\n]*)\n\n?```(\w*)\n([\s\S]*?)```/g;
  for (const match of markdown.matchAll(fence))
    blocks.push({ caption: match[1] ?? '', lang: match[2] ?? '', code: match[3] ?? '' });
  return blocks;
}
