import { printable } from '../contracts/text';

// A small document model rendered twice, as GitHub-flavoured markdown and as one self-contained HTML
// page. Every string in it is text, never markup: each renderer escapes all of it in one place, so
// generated text (paths, messages, the intent) cannot add markup or break out of a table.

/** How a status reads at a glance: green, red, amber or grey in HTML, bold (bad, warn) in markdown. */
export type Tone = 'good' | 'bad' | 'warn' | 'muted';
export type Inline = string | { text: string; tone: Tone };
/** A table cell: one line, or several (evidence, tests). */
export type Cell = Inline | Inline[];

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; text: Inline }
  | { kind: 'fields'; rows: [string, Inline][] }
  /** Text whose line breaks matter (the intent as submitted). */
  | { kind: 'quote'; text: string }
  | { kind: 'list'; items: Inline[] }
  | { kind: 'table'; head: string[]; rows: Cell[][] }
  | { kind: 'note'; text: string };

const textOf = (inline: Inline) => (typeof inline === 'string' ? inline : inline.text);
const toneOf = (inline: Inline) => (typeof inline === 'string' ? undefined : inline.tone);
const linesOf = (cell: Cell) => (Array.isArray(cell) ? cell : [cell]);

// Markdown ------------------------------------------------------------------------------------------

/**
 * One line of literal text, still readable raw (auditors read the .md as text): the characters that make
 * markup anywhere in a line are backslash-escaped (| and $, which GitHub reads as maths, included), and
 * those that only do at a line's start (# - + . 1.) only there; no controls.
 */
const INLINE_MARKUP = /[\\`*_[\]|~$]/g;
const mdText = (text: string) =>
  printable(text.replace(/\s+/g, ' ').trim(), Number.MAX_SAFE_INTEGER)
    .replace(INLINE_MARKUP, '\\$&')
    .replace(/[&<>]/g, (char) => ENTITIES[char]!)
    .replace(/\]\(/g, ']\\(') // no link target, even after an escaped bracket
    .replace(/^([#+\-=!(){}]|\d+(?=[.)]))/, '\\$1');

function mdInline(inline: Inline): string {
  const text = mdText(textOf(inline));
  const tone = toneOf(inline);
  return text !== '' && (tone === 'bad' || tone === 'warn') ? `**${text}**` : text;
}

function mdBlock(block: Block): string {
  switch (block.kind) {
    case 'heading':
      return `${'#'.repeat(block.level)} ${mdText(block.text)}`;
    case 'paragraph':
      return mdInline(block.text);
    case 'fields':
      return block.rows.map(([label, value]) => `- **${mdText(label)}:** ${mdInline(value)}`).join('\n');
    case 'quote':
      // One quoted paragraph per line of the text, so its line breaks survive.
      return block.text
        .split(/\r\n|\r|\n/)
        .filter((line) => line.trim() !== '')
        .map((line) => `> ${mdText(line)}`)
        .join('\n>\n');
    case 'list':
      return block.items.map((item) => `- ${mdInline(item)}`).join('\n');
    case 'table': {
      const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
      return [
        row(block.head.map(mdText)),
        row(block.head.map(() => '---')),
        ...block.rows.map((cells) => row(cells.map((cell) => linesOf(cell).map(mdInline).join('<br>')))),
      ].join('\n');
    }
    case 'note':
      return `> **Note:** ${mdText(block.text)}`;
  }
}

export function toMarkdown(blocks: Block[]): string {
  return `${blocks.map(mdBlock).join('\n\n')}\n`;
}

// HTML ----------------------------------------------------------------------------------------------

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Text as HTML: the five special characters as entities, control characters as U+FFFD. */
export const escapeHtml = (text: string) =>
  printable(text, Number.MAX_SAFE_INTEGER).replace(/[&<>"']/g, (char) => ENTITIES[char]!);

/** One line of text: line breaks in generated strings are only white space here. */
const htmlText = (text: string) => escapeHtml(text.replace(/\s+/g, ' ').trim());

function htmlInline(inline: Inline): string {
  const tone = toneOf(inline);
  const text = htmlText(textOf(inline));
  return tone ? `<span class="${tone}">${text}</span>` : text;
}

export function htmlBlock(block: Block): string {
  switch (block.kind) {
    case 'heading':
      return `<h${block.level}>${htmlText(block.text)}</h${block.level}>`;
    case 'paragraph':
      return `<p>${htmlInline(block.text)}</p>`;
    case 'fields':
      return `<dl>\n${block.rows.map(([label, value]) => `<dt>${htmlText(label)}</dt><dd>${htmlInline(value)}</dd>`).join('\n')}\n</dl>`;
    case 'quote':
      return `<blockquote>${block.text
        .split(/\r\n|\r|\n/)
        .map((line) => escapeHtml(line.replace(/\t/g, ' ')))
        .join('\n')}</blockquote>`;
    case 'list':
      return `<ul>\n${block.items.map((item) => `<li>${htmlInline(item)}</li>`).join('\n')}\n</ul>`;
    case 'table': {
      const head = block.head.map((cell) => `<th>${htmlText(cell)}</th>`).join('');
      const rows = block.rows.map(
        (cells) => `<tr>${cells.map((cell) => `<td>${linesOf(cell).map(htmlInline).join('<br>')}</td>`).join('')}</tr>`,
      );
      return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
    }
    case 'note':
      return `<p class="note"><strong>Note:</strong> ${htmlText(block.text)}</p>`;
  }
}

// Inline CSS only, laid out for screen and paper; the policy forbids scripts and any fetch at all.
export const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1b1f24; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 12px; }
h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 6px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
blockquote { white-space: pre-wrap; margin: 8px 0; padding: 8px 12px; border-left: 4px solid #d0d7de; background: #f6f8fa; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 6px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f6f8fa; }
.good { color: #1a7f37; font-weight: 600; }
.bad { color: #cf222e; font-weight: 600; }
.warn { color: #9a6700; font-weight: 600; }
.muted { color: #59636e; }
.note { padding: 8px 12px; background: #fff8c5; border: 1px solid #d4a72c; }
@media print {
  body { font-size: 11px; }
  main { max-width: none; padding: 0; }
  h2, h3 { break-after: avoid; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
  .good, .bad, .warn, .muted { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
`;

export function toHtml(title: string, blocks: Block[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${htmlText(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    ...blocks.map(htmlBlock),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
