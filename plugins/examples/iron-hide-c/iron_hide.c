/*
 * Iron Hide, a homebrew feat, as a plugin in C: ABI v1 by hand, to show that it is
 * language-neutral. Freestanding (no libc, no WASI); built by plugins/build.sh with
 *
 *   clang --target=wasm32 -O2 -nostdlib -ffreestanding -Wl,--no-entry -Wl,--strip-all \
 *         -o iron_hide.wasm iron_hide.c
 *
 * and installed into rules/examples/iron-hide/features/iron-hide/.
 *
 * The feat: your skin is hard as iron. While you wear no armour your AC is 13 + your Dexterity
 * modifier (a shield still adds; the engine keeps the best of every AC base), and from level 5
 * you also resist bludgeoning damage while unarmoured.
 *
 * What the ABI asks of a module, and where it is done here:
 *   - export `memory` (wasm-ld does), `gr_abi_version` returning 1, `gr_alloc(len)`;
 *   - one `gr_<hook>(ptr, len) -> i64` per hook: UTF-8 JSON in at ptr/len, and the answer's
 *     `(ptr << 32) | len` out, the answer being `{"ok": ...}` or `{"error": {"message": ...}}`;
 *   - import nothing but `grimoire.log(ptr, len, level)`.
 * Every call runs in a fresh instance, so memory is a bump allocator that never frees.
 *
 * The hook reads two values of the sheet view, `sheet.armor.worn` and `sheet.level`, with a
 * small JSON scanner (skip a value, find a key in an object) — enough for reading, which is all a
 * plugin does with its input. Answers are written into a fixed buffer.
 */

#define EXPORT(name) __attribute__((export_name(name)))

__attribute__((import_module("grimoire"), import_name("log")))
void grimoire_log(const char *ptr, int len, int level);

/* ---- memory: a bump allocator above the data and the stack ---------------------------------- */

extern unsigned char __heap_base;
static unsigned long heap_top = 0;

EXPORT("gr_abi_version") int gr_abi_version(void) { return 1; }

EXPORT("gr_alloc") void *gr_alloc(int len) {
    if (heap_top == 0) heap_top = (unsigned long)&__heap_base;
    unsigned long start = (heap_top + 7) & ~7ul;
    unsigned long end = start + (unsigned long)(len < 0 ? 0 : len);
    unsigned long size = __builtin_wasm_memory_size(0) * 65536ul;
    if (end > size) {
        /* The host caps memory (16 MiB); a refused growth is reported by the host as that limit,
           so trapping here is the clearest answer. */
        if (__builtin_wasm_memory_grow(0, (end - size + 65535) / 65536) == (unsigned long)-1)
            __builtin_trap();
    }
    heap_top = end;
    return (void *)start;
}

/* ---- reading JSON: find a value by path -------------------------------------------------------- */

typedef struct { const char *s; int n; } Json;

static int skip_ws(Json j, int i) {
    while (i < j.n && (j.s[i] == ' ' || j.s[i] == '\n' || j.s[i] == '\r' || j.s[i] == '\t')) i++;
    return i;
}

/* Index just after the string starting at i (which is '"'), or -1. */
static int skip_string(Json j, int i) {
    for (i++; i < j.n; i++) {
        if (j.s[i] == '\\') i++;
        else if (j.s[i] == '"') return i + 1;
    }
    return -1;
}

/* Index just after the value starting at i, or -1. Containers are skipped by counting brackets
   outside strings, without recursion, so deep input cannot exhaust the stack. */
static int skip_value(Json j, int i) {
    i = skip_ws(j, i);
    if (i >= j.n) return -1;
    if (j.s[i] == '"') return skip_string(j, i);
    if (j.s[i] == '{' || j.s[i] == '[') {
        int depth = 0;
        while (i < j.n) {
            char c = j.s[i];
            if (c == '"') { i = skip_string(j, i); if (i < 0) return -1; continue; }
            if (c == '{' || c == '[') depth++;
            else if (c == '}' || c == ']') { if (--depth == 0) return i + 1; }
            i++;
        }
        return -1;
    }
    /* number, true, false, null */
    while (i < j.n && j.s[i] != ',' && j.s[i] != '}' && j.s[i] != ']' && j.s[i] != ' '
           && j.s[i] != '\n' && j.s[i] != '\r' && j.s[i] != '\t') i++;
    return i;
}

static int key_is(Json j, int start, int end, const char *key) {
    int k = 0;
    for (int i = start; i < end; i++, k++)
        if (key[k] == 0 || key[k] != j.s[i]) return 0;
    return key[k] == 0;
}

/* Index of the value of `key` in the object starting at i, or -1. Keys are compared as written
   (the view's keys have no escapes). */
static int find_key(Json j, int i, const char *key) {
    i = skip_ws(j, i);
    if (i >= j.n || j.s[i] != '{') return -1;
    i++;
    for (;;) {
        i = skip_ws(j, i);
        if (i >= j.n || j.s[i] != '"') return -1;
        int key_end = skip_string(j, i);
        if (key_end < 0) return -1;
        int match = key_is(j, i + 1, key_end - 1, key);
        i = skip_ws(j, key_end);
        if (i >= j.n || j.s[i] != ':') return -1;
        i = skip_ws(j, i + 1);
        if (match) return i;
        int after = skip_value(j, i);
        if (after < 0) return -1;
        i = skip_ws(j, after);
        if (i >= j.n || j.s[i] != ',') return -1;
        i++;
    }
}

/* Index of the value at a path of keys, or -1. */
static int lookup(Json j, const char *const *path, int depth) {
    int i = 0;
    for (int d = 0; d < depth && i >= 0; d++) i = find_key(j, i, path[d]);
    return i;
}

static int starts_with(Json j, int i, const char *word) {
    for (int k = 0; word[k]; k++)
        if (i + k >= j.n || j.s[i + k] != word[k]) return 0;
    return 1;
}

/* A non-negative integer at i, or -1. */
static int read_uint(Json j, int i) {
    if (i < 0 || i >= j.n || j.s[i] < '0' || j.s[i] > '9') return -1;
    int v = 0;
    for (; i < j.n && j.s[i] >= '0' && j.s[i] <= '9' && v < 100000; i++) v = v * 10 + (j.s[i] - '0');
    return v;
}

/* ---- writing text ------------------------------------------------------------------------------ */

typedef struct { char *buf; int cap; int len; } Text;

/* Appends; text that does not fit is dropped and `len` passes `cap`, so overflow is detectable. */
static void put(Text *t, const char *s) {
    for (int k = 0; s[k]; k++, t->len++)
        if (t->len < t->cap) t->buf[t->len] = s[k];
}

static void put_uint(Text *t, int v) {
    char digits[12];
    int n = 0;
    do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v > 0 && n < 11);
    while (n > 0) { char d[2] = {digits[--n], 0}; put(t, d); }
}

static void log_text(Text *t, int level) {
    grimoire_log(t->buf, t->len < t->cap ? t->len : t->cap, level);
}

/* The answer lives in a static buffer: the instance is discarded after the call. */
static char answer_buf[1024];

static long long answer(Text *t) {
    return ((long long)(unsigned long)t->buf << 32) | (long long)t->len;
}

static long long error(const char *message) {
    Text t = {answer_buf, sizeof answer_buf, 0};
    put(&t, "{\"error\":{\"message\":\"");
    put(&t, message);
    put(&t, "\"}}");
    return answer(&t);
}

/* ---- hooks ------------------------------------------------------------------------------------ */

EXPORT("gr_meta") long long gr_meta(const char *ptr, int len) {
    (void)ptr;
    (void)len;
    Text t = {answer_buf, sizeof answer_buf, 0};
    put(&t, "{\"ok\":{\"id\":\"iron-hide\",\"name\":\"Iron Hide\",\"kind\":\"feature\"}}");
    return answer(&t);
}

EXPORT("gr_modifiers") long long gr_modifiers(const char *ptr, int len) {
    Json input = {ptr, len};
    static const char *const worn_path[] = {"sheet", "armor", "worn"};
    static const char *const level_path[] = {"sheet", "level"};
    int worn_at = lookup(input, worn_path, 3);
    int level = read_uint(input, lookup(input, level_path, 2));
    if (worn_at < 0 || level < 0) return error("input has no sheet.armor.worn or sheet.level");
    int worn = starts_with(input, worn_at, "true");

    /* The author's log, at debug level: what the hook saw. */
    char line_buf[64];
    Text line = {line_buf, sizeof line_buf, 0};
    put(&line, worn ? "iron hide: armoured, level " : "iron hide: unarmoured, level ");
    put_uint(&line, level);
    log_text(&line, 0);

    Text t = {answer_buf, sizeof answer_buf, 0};
    put(&t, "{\"ok\":[");
    if (!worn) {
        put(&t, "{\"target\":\"ac\",\"op\":\"base\",\"value\":\"13 + @abilities.dex.mod\"}");
        if (level >= 5) put(&t, ",{\"target\":\"resistances\",\"op\":\"grant\",\"value\":\"bludgeoning\"}");
    }
    put(&t, "]}");
    return answer(&t);
}
