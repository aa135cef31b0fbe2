// ANSI escape handling for terminal output: SGR colours and styles become styled runs;
// every other escape or control sequence is dropped, never shown raw.

export const NL = 1; // token: line feed
export const CR = 2; // token: carriage return

// One alternation for everything that is not plain text. CSI (ESC [ ... final), OSC and DCS
// strings, two-byte escapes, line feed, carriage return, and C0/C1 control characters
// (tab, LF and CR excepted; a lone ESC is handled with the carry below).
const SPECIAL = new RegExp(
  [
    '\\x1b\\[([0-?]*)([ -/]*)([@-~])',
    '\\x1b\\][\\s\\S]*?(?:\\x07|\\x1b\\\\)',
    '\\x1b[PX^_][\\s\\S]*?\\x1b\\\\',
    '\\x1b[ -/]*[0-~]',
    '\\n',
    '\\r',
    '[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1a\\x1c-\\x1f\\x7f-\\x9f]',
  ].join('|'),
  'g',
);
const NEEDS_PARSER = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
// What an escape sequence cut off at the end of a chunk can look like.
const PARTIAL_ESCAPE = /^\x1b(?:\[[0-?]*[ -/]*|\][^\x07]*|[PX^_][\s\S]*|[ -/]*)$/;
const MAX_CARRY = 4096;

const PLAIN_KEY = '||0';
const styles = new Map();

/** The one shared object for a style, so equal styles compare with ===. */
function intern(style) {
  const key = `${style.fg ?? ''}|${style.bg ?? ''}|${style.flags}`;
  if (key === PLAIN_KEY) return PLAIN;
  let found = styles.get(key);
  if (!found) {
    if (styles.size > 2000) styles.clear();
    found = Object.freeze({ ...style });
    styles.set(key, found);
  }
  return found;
}

// Style flags as bits.
const BOLD = 1, DIM = 2, ITALIC = 4, UNDERLINE = 8, INVERSE = 16, HIDDEN = 32, STRIKE = 64;
export const PLAIN = Object.freeze({ fg: null, bg: null, flags: 0 });

const FLAG_ON = { 1: BOLD, 2: DIM, 3: ITALIC, 4: UNDERLINE, 7: INVERSE, 8: HIDDEN, 9: STRIKE };
const FLAG_OFF = { 22: BOLD | DIM, 23: ITALIC, 24: UNDERLINE, 27: INVERSE, 28: HIDDEN, 29: STRIKE };

/** Apply one SGR parameter string (`0;1;38;5;208`) to a style. */
export function applySgr(style, params) {
  const codes = params === '' ? ['0'] : params.split(';');
  const next = { fg: style.fg, bg: style.bg, flags: style.flags };
  for (let i = 0; i < codes.length; i += 1) {
    const part = codes[i];
    if (part.includes(':')) {
      applyColonColour(next, part.split(':'));
      continue;
    }
    const code = part === '' ? 0 : Number.parseInt(part, 10);
    if (code === 38 || code === 48 || code === 58) {
      const [colour, used] = extendedColour(codes, i + 1);
      if (code === 38 && colour !== undefined) next.fg = colour;
      if (code === 48 && colour !== undefined) next.bg = colour;
      i += used;
    } else {
      applyCode(next, code);
    }
  }
  return intern(next);
}

function applyCode(style, code) {
  if (code === 0) Object.assign(style, { fg: null, bg: null, flags: 0 });
  else if (FLAG_ON[code]) style.flags |= FLAG_ON[code];
  else if (FLAG_OFF[code]) style.flags &= ~FLAG_OFF[code];
  else if (code >= 30 && code <= 37) style.fg = code - 30;
  else if (code === 39) style.fg = null;
  else if (code >= 40 && code <= 47) style.bg = code - 40;
  else if (code === 49) style.bg = null;
  else if (code >= 90 && code <= 97) style.fg = code - 90 + 8;
  else if (code >= 100 && code <= 107) style.bg = code - 100 + 8;
  // anything else (blink, fonts, overline...) is ignored on purpose
}

/** `5;n` or `2;r;g;b` after 38/48: the colour and how many parameters it used. */
function extendedColour(codes, at) {
  const mode = codes[at];
  if (mode === '5' && at + 1 < codes.length) return [clampByte(codes[at + 1]), 2];
  if (mode === '2' && at + 3 < codes.length) {
    return [rgb(codes[at + 1], codes[at + 2], codes[at + 3]), 4];
  }
  return [undefined, codes.length - at]; // malformed: swallow the rest
}

/** ITU T.416 form: `38:5:n`, `38:2::r:g:b` or `38:2:r:g:b`. */
function applyColonColour(style, sub) {
  const [code, mode, ...rest] = sub;
  let colour;
  if (mode === '5') colour = clampByte(rest[0]);
  else if (mode === '2' && rest.length >= 3) colour = rgb(...rest.slice(-3));
  if (colour === undefined) return;
  if (code === '38') style.fg = colour;
  else if (code === '48') style.bg = colour;
}

function clampByte(text) {
  const n = Number.parseInt(text, 10);
  return Number.isNaN(n) ? undefined : Math.min(255, Math.max(0, n));
}

function rgb(r, g, b) {
  const hex = [r, g, b].map((c) => (clampByte(c) ?? 0).toString(16).padStart(2, '0')).join('');
  return `#${hex}`;
}

/**
 * Stateful tokenizer for one stream: text runs `{text, style}`, NL and CR tokens.
 * Styles carry over between chunks, and so does an escape sequence cut in half.
 */
export class AnsiParser {
  constructor() {
    this.style = PLAIN;
    this.carry = '';
  }

  tokenize(chunk) {
    let text = this.carry + chunk;
    this.carry = '';
    const tokens = [];
    if (!NEEDS_PARSER.test(text)) { // the common case: plain lines
      const parts = text.split('\n');
      for (let i = 0; i < parts.length; i += 1) {
        if (i) tokens.push(NL);
        if (parts[i]) tokens.push({ text: parts[i], style: this.style });
      }
      return tokens;
    }
    SPECIAL.lastIndex = 0;
    let last = 0;
    let match;
    while ((match = SPECIAL.exec(text)) !== null) {
      if (match.index > last) this.pushText(tokens, text.slice(last, match.index));
      last = SPECIAL.lastIndex;
      const seq = match[0];
      if (seq === '\n') tokens.push(NL);
      else if (seq === '\r') tokens.push(CR);
      else if (match[3] === 'm' && match[2] === '' && !/[<=>?]/.test(match[1])) {
        this.style = applySgr(this.style, match[1]);
      }
    }
    const rest = text.slice(last);
    const escape = rest.lastIndexOf('\x1b');
    if (escape >= 0 && rest.length - escape <= MAX_CARRY && PARTIAL_ESCAPE.test(rest.slice(escape))) {
      this.carry = rest.slice(escape);
      this.pushText(tokens, rest.slice(0, escape));
    } else {
      this.pushText(tokens, rest);
    }
    return tokens;
  }

  pushText(tokens, text) {
    const clean = text.includes('\x1b') ? text.replaceAll('\x1b', '') : text;
    if (clean) tokens.push({ text: clean, style: this.style });
  }
}

/** Plain text of terminal output: escape sequences and control characters removed. */
export function stripAnsi(text) {
  const parser = new AnsiParser();
  return parser.tokenize(String(text ?? '')).map((token) => (token === NL ? '\n' : token === CR ? '' : token.text)).join('');
}

// ---------------------------------------------------------------------------- rendering

const rendered = new WeakMap();

function cube(n) {
  return n === 0 ? 0 : 55 + n * 40;
}

/** CSS colour for a palette index of 16..255 (the xterm 256-colour cube and grey ramp). */
export function paletteColour(index) {
  if (index >= 232) {
    const level = 8 + (index - 232) * 10;
    return `rgb(${level}, ${level}, ${level})`;
  }
  const n = index - 16;
  return `rgb(${cube(Math.floor(n / 36))}, ${cube(Math.floor(n / 6) % 6)}, ${cube(n % 6)})`;
}

function colourFor(value, role, classes, css) {
  if (value === null) return;
  if (typeof value === 'string') css[role === 'f' ? 'color' : 'backgroundColor'] = value;
  else if (value < 16) classes.push(`a-${role}${value}`);
  else css[role === 'f' ? 'color' : 'backgroundColor'] = paletteColour(value);
}

/** Class names and CSSOM properties for a style (cached per interned style). */
export function styleLook(style) {
  let look = rendered.get(style);
  if (look) return look;
  const classes = [];
  const css = {};
  let { fg, bg } = style;
  if (style.flags & INVERSE) {
    [fg, bg] = [bg, fg];
    if (fg === null) classes.push('a-inv-f');
    if (bg === null) classes.push('a-inv-b');
  }
  colourFor(fg, 'f', classes, css);
  colourFor(bg, 'b', classes, css);
  if (style.flags & BOLD) classes.push('a-bold');
  if (style.flags & DIM) classes.push('a-dim');
  if (style.flags & ITALIC) classes.push('a-italic');
  if (style.flags & HIDDEN) classes.push('a-hidden');
  const lines = (style.flags & UNDERLINE ? 1 : 0) + (style.flags & STRIKE ? 2 : 0);
  if (lines) classes.push(['', 'a-under', 'a-strike', 'a-under-strike'][lines]);
  look = { className: classes.join(' '), css };
  rendered.set(style, look);
  return look;
}

/** A DOM node for one styled run: a text node when plain, else a span (text via textContent). */
export function runNode(run) {
  if (run.style === PLAIN) return document.createTextNode(run.text);
  const look = styleLook(run.style);
  const span = document.createElement('span');
  if (look.className) span.className = look.className;
  Object.assign(span.style, look.css);
  span.textContent = run.text;
  return span;
}
