/**
 * A checker for the relative links of the repository's Markdown, as GitHub renders it: every link to a file must name
 * one that exists inside the repository, and every `#anchor` into a Markdown file must name one of its headings (by
 * GitHub's slugs) or an explicit `<a id>`. Links in code blocks and code spans are text, not links, and are skipped;
 * so are links with a scheme (`https:`, `mailto:`).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** A link that does not resolve, with where it is and why. */
export interface BrokenLink {
  /** The Markdown file, relative to the root. */
  file: string;
  line: number;
  target: string;
  problem: string;
}

/** A link as written in a Markdown file. */
export interface MarkdownLink {
  line: number;
  target: string;
}

const FENCE = /^\s*(`{3,}|~{3,})/;

/** The lines of `markdown` outside fenced code blocks, with their 1-based numbers. */
function proseLines(markdown: string): { line: number; text: string }[] {
  const lines: { line: number; text: string }[] = [];
  let fence: string | undefined;
  markdown.split(/\r?\n/).forEach((text, index) => {
    const opening = FENCE.exec(text)?.[1];
    if (fence === undefined && opening) {
      fence = opening;
      return;
    }
    if (fence !== undefined) {
      // A fence closes with the same character, at least as long, and nothing after it.
      if (opening && opening[0] === fence[0] && opening.length >= fence.length && text.trim() === opening) {
        fence = undefined;
      }
      return;
    }
    lines.push({ line: index + 1, text });
  });
  return lines;
}

/** `text` with its code spans blanked out: what they contain is shown as it is, never as a link. */
function withoutCodeSpans(text: string): string {
  return text.replace(/(`+)[\s\S]*?\1/g, (span) => ' '.repeat(span.length));
}

/**
 * The anchor GitHub gives a heading: its text as rendered (links become their text, code spans their content),
 * lowercased, with punctuation removed (letters, marks, digits, `_`, `-` and spaces stay) and each space a hyphen.
 */
export function githubSlug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '')
    .replace(/\*/g, '');
  return rendered
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: its headings' slugs (repeats numbered `-1`, `-2` as GitHub does) and `<a id>`s. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(markdown)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(text);
    if (heading) {
      const slug = githubSlug(heading[1]!);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const match of text.matchAll(/<a\s+(?:[^>]*\s)?(?:id|name)="([^"]+)"/gi)) anchors.add(match[1]!);
  }
  return anchors;
}

/** Every link target of a Markdown file: inline links and images, reference definitions, and HTML `href`/`src`. */
export function linksOf(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  for (const { line, text } of proseLines(markdown)) {
    const prose = withoutCodeSpans(text);
    for (const match of prose.matchAll(/!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ line, target: match[1]! });
    }
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/.exec(prose);
    if (definition) links.push({ line, target: definition[1]! });
    for (const match of prose.matchAll(/\s(?:href|src)="([^"]+)"/gi)) links.push({ line, target: match[1]! });
  }
  return links;
}

/** True for a target GitHub resolves elsewhere than in the repository: a URL with a scheme, or protocol-relative. */
function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');
}

/**
 * The broken links of `markdown`, read as the file `file` (relative to `root`): targets that do not exist, that
 * leave the repository, or whose anchor is not in the Markdown file they point to.
 */
export function brokenLinksIn(root: string, file: string, markdown: string): BrokenLink[] {
  const broken: BrokenLink[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsAt = (absolute: string, text?: string): Set<string> => {
    let anchors = anchorCache.get(absolute);
    if (!anchors) {
      anchors = anchorsOf(text ?? readFileSync(absolute, 'utf8'));
      anchorCache.set(absolute, anchors);
    }
    return anchors;
  };
  const self = path.resolve(root, file);
  for (const { line, target } of linksOf(markdown)) {
    const report = (problem: string) => broken.push({ file, line, target, problem });
    if (target === '') {
      report('the link has no target');
      continue;
    }
    if (isExternal(target)) continue;
    const hash = target.indexOf('#');
    const rawPath = hash < 0 ? target : target.slice(0, hash);
    const anchor = hash < 0 ? undefined : target.slice(hash + 1);
    let decoded: string;
    try {
      decoded = decodeURIComponent(rawPath.split('?')[0]!);
    } catch {
      report('the path is not valid URL encoding');
      continue;
    }
    const absolute =
      decoded === ''
        ? self
        : decoded.startsWith('/')
          ? path.join(root, decoded)
          : path.resolve(path.dirname(self), decoded);
    const inside = path.relative(root, absolute);
    if (inside.startsWith('..') || path.isAbsolute(inside)) {
      report('it points outside the repository');
      continue;
    }
    if (decoded !== '' && !existsSync(absolute)) {
      report(`${inside} does not exist`);
      continue;
    }
    if (anchor === undefined || anchor === '' || !absolute.endsWith('.md')) continue;
    if (decoded !== '' && statSync(absolute).isDirectory()) {
      continue;
    }
    const anchors = anchorsAt(absolute, decoded === '' ? markdown : undefined);
    if (!anchors.has(decodeURIComponent(anchor).toLowerCase())) {
      report(`${inside} has no heading or anchor "#${anchor}"`);
    }
  }
  return broken;
}

/** The Markdown a person reads: README.md, CONTRIBUTING.md, TROUBLESHOOTING.md and everything under docs/. */
export function documentationFiles(root: string): string[] {
  const files = ['README.md', 'CONTRIBUTING.md', 'TROUBLESHOOTING.md'].filter((file) =>
    existsSync(path.join(root, file)),
  );
  const docs = path.join(root, 'docs');
  if (existsSync(docs)) {
    for (const entry of readdirSync(docs, { recursive: true })) {
      const relative = path.join('docs', String(entry));
      if (relative.endsWith('.md')) files.push(relative);
    }
  }
  return files.sort();
}

/** The broken links of each of `files` (relative to `root`). */
export function brokenLinks(root: string, files: string[]): BrokenLink[] {
  return files.flatMap((file) => brokenLinksIn(root, file, readFileSync(path.join(root, file), 'utf8')));
}

/** One line per broken link, for an assertion message a person can act on. */
export function describeBrokenLinks(broken: BrokenLink[]): string {
  return broken.map((link) => `${link.file}:${link.line}: (${link.target}) ${link.problem}`).join('\n');
}
