// Splits a stream of concatenated JSON objects (Docker's events API) into objects, whatever
// the chunk boundaries: a chunk may hold half an object or several.
import { StringDecoder } from 'node:string_decoder';

export class JsonObjectSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private buf = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Where the scan stopped in `buf`, so each byte is scanned once. */
  private scanned = 0;

  constructor(private readonly onBadObject: (text: string, err: unknown) => void = () => {}) {}

  push(chunk: Buffer | string): unknown[] {
    this.buf += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const out: unknown[] = [];
    for (let i = this.scanned; i < this.buf.length; i++) {
      const ch = this.buf[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === '\\') this.escaped = true;
        else if (ch === '"') this.inString = false;
        continue;
      }
      if (ch === '"') { if (this.depth > 0) this.inString = true; continue; }
      if (ch === '{') {
        // An object starts: drop what came before it, so the object always begins at 0.
        if (this.depth === 0 && i > 0) { this.buf = this.buf.slice(i); i = 0; }
        this.depth++;
      } else if (ch === '}' && this.depth > 0) {
        this.depth--;
        if (this.depth === 0) {
          const text = this.buf.slice(0, i + 1);
          try { out.push(JSON.parse(text)); } catch (err) { this.onBadObject(text, err); }
          this.buf = this.buf.slice(i + 1);
          i = -1;
        }
      } else if (this.depth === 0 && ch !== undefined && !/\s/.test(ch)) {
        // Garbage between objects: drop it.
        this.buf = this.buf.slice(i + 1);
        i = -1;
      }
    }
    this.scanned = this.buf.length;
    return out;
  }
}
