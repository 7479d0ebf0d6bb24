// Stand-ins the bundle uses in string-width (tools/bundle.mjs). string-width, which yargs'
// help layout needs, builds an Intl.Segmenter and Unicode property regular expressions
// (\p{RGI_Emoji} above all) when it is loaded: about 15 ms of ICU work on every start of the
// daemon, though only --help and usage messages ever lay text out. These build the real
// objects on first use. Only the operations string-width performs are provided.

export class LazySegmenter {
  #args;
  #real;
  constructor(...args) { this.#args = args; }
  segment(text) {
    this.#real ??= new Intl.Segmenter(...this.#args);
    return this.#real.segment(text);
  }
}

export class LazyRegExp {
  #source;
  #flags;
  #real;
  constructor(source, flags) { this.#source = source; this.#flags = flags; }
  get #re() { return (this.#real ??= new RegExp(this.#source, this.#flags)); }
  get lastIndex() { return this.#re.lastIndex; }
  set lastIndex(value) { this.#re.lastIndex = value; }
  test(text) { return this.#re.test(text); }
  exec(text) { return this.#re.exec(text); }
  [Symbol.match](text) { return this.#re[Symbol.match](text); }
  [Symbol.matchAll](text) { return this.#re[Symbol.matchAll](text); }
  [Symbol.search](text) { return this.#re[Symbol.search](text); }
  [Symbol.replace](text, replacement) { return this.#re[Symbol.replace](text, replacement); }
  [Symbol.split](text, limit) { return this.#re[Symbol.split](text, limit); }
}
