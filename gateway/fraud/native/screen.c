/* The compiled screen in front of `Matcher.blocked` (gateway/fraud/matcher.py).
 *
 * `Screen` is the matcher's base class where this module was compiled: the tables the lookups
 * read (`_hot`, `_hot_mask`, `_v4_blocks`, `_v6_blocks`, `_bins`) are its slots, so the Python
 * code that builds and swaps them writes where C reads, and C never holds a stale table. Its
 * `blocked` answers in C only the misses that the Python code settles with one table look: a
 * zero byte or another tag in `_hot`, a zero /24 bit in the IPv4 or IPv6 blocks, a zero bit
 * in `_bins`. Everything else (a candidate to confirm, text to normalise first, bad input, an
 * unknown kind, an unexpected table) goes to the Python `blocked_in_python` with the same
 * arguments: C never answers True and never raises where Python would not, so the semantics
 * are the Python ones by construction. Nothing is cached across calls: a bytearray can be
 * resized, and a table replaced.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <arpa/inet.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030B0000
#error "the screen is written for CPython 3.11 or later"
#endif

/* The SHA-256 of this file, given by build.py: `__init__.py` refuses a module built from
 * another version of it (a failed rebuild, a checkout without one). */
#ifndef SCREEN_SOURCE_DIGEST
#error "compile with build.py, which gives SCREEN_SOURCE_DIGEST"
#endif

typedef struct {
    PyObject_HEAD
    PyObject *hot;      /* bytearray: a byte for each slot a key may fall in */
    PyObject *hot_mask; /* int: len(hot) - 1 */
    PyObject *v4_blocks, *v6_blocks, *bins; /* bytearrays: a bit a /24 block, a bit a BIN */
} Screen;

/* The matcher's constants, given once by `Screen.configure`, so that they have one source. */
static long many = 255, opaque_max_length = 200;
static Py_ssize_t bin_bits_mask = (1 << 20) - 1;

static PyObject *s_ip, *s_card_fingerprint, *s_email, *s_card_bin, *s_now, *s_python;

enum { MISS = 0, UNSURE = 1 };
enum { K_OTHER, K_IP, K_FINGERPRINT, K_EMAIL, K_BIN };

/* Which kind, for an exact str only (a subclass may compare differently: Python decides). */
static int
kind_of(PyObject *kind)
{
    if (kind == s_ip) return K_IP;
    if (kind == s_card_fingerprint) return K_FINGERPRINT;
    if (kind == s_email) return K_EMAIL;
    if (kind == s_card_bin) return K_BIN;
    if (!PyUnicode_CheckExact(kind) || !PyUnicode_IS_READY(kind) || !PyUnicode_IS_ASCII(kind))
        return K_OTHER;
    /* Equal but not the interned object: compare the text. */
    const char *text = (const char *)PyUnicode_DATA(kind);
    Py_ssize_t length = PyUnicode_GET_LENGTH(kind);
#define IS(name) (length == (Py_ssize_t)sizeof(name) - 1 && memcmp(text, name, length) == 0)
    if (IS("ip")) return K_IP;
    if (IS("card_fingerprint")) return K_FINGERPRINT;
    if (IS("email")) return K_EMAIL;
    if (IS("card_bin")) return K_BIN;
#undef IS
    return K_OTHER;
}

/* One byte of a bytearray, or -1 where it is none or past its end (Python decides). */
static inline int
byte_at(PyObject *array, size_t index)
{
    if (array == NULL || !PyByteArray_CheckExact(array) ||
        index >= (size_t)PyByteArray_GET_SIZE(array))
        return -1;
    return (unsigned char)PyByteArray_AS_STRING(array)[index];
}

/* The key's hot byte: MISS where Python's `mark != 0 and (mark == MANY or mark == tag)` is
 * false. `hash >> 3` and `key & mask` as Python computes them on negative ints: an arithmetic
 * shift, then two's complement (mask >= 0). */
static int
hot(Screen *self, Py_hash_t hash)
{
    if (self->hot_mask == NULL || !PyLong_CheckExact(self->hot_mask)) return UNSURE;
    Py_ssize_t mask = PyLong_AsSsize_t(self->hot_mask);
    if (mask < 0) {
        PyErr_Clear(); /* too large for C: Python's to look at */
        return UNSURE;
    }
    Py_hash_t key = hash >> 3;
    int mark = byte_at(self->hot, (size_t)key & (size_t)mask);
    if (mark == 0) return MISS;
    if (mark < 0 || mark == many) return UNSURE;
    return mark == (int)((key >> 40) & 0x7F) + 1 ? UNSURE : MISS;
}

/* hash(value) of an exact str, which cannot fail; 0 where it would be -1 (Python's to raise). */
static inline int
hash_of(PyObject *value, Py_hash_t *hash)
{
    *hash = PyObject_Hash(value);
    if (*hash != -1) return 1;
    PyErr_Clear();
    return 0;
}

/* The bit of a /24 block (`blocks[block >> 3] >> (block & 7) & 1`). */
static int
block_bit(PyObject *blocks, size_t block)
{
    int byte = byte_at(blocks, block >> 3);
    if (byte < 0) return UNSURE;
    return (byte >> (block & 7)) & 1 ? UNSURE : MISS;
}

static int
screen_ip(Screen *self, PyObject *value)
{
    if (!PyUnicode_IS_ASCII(value)) return UNSURE;
    const char *text = (const char *)PyUnicode_DATA(value); /* NUL-terminated */
    Py_ssize_t length = PyUnicode_GET_LENGTH(value);
    if ((Py_ssize_t)strlen(text) != length) return UNSURE; /* Python's inet_pton refuses a NUL */
    unsigned char packed[16];
    if (memchr(text, ':', length) == NULL) {
        /* The libc inet_pton that socket.inet_pton calls: it refuses what Python refuses. */
        if (inet_pton(AF_INET, text, packed) != 1) return UNSURE;
        unsigned long number = (unsigned long)packed[0] << 24 | (unsigned long)packed[1] << 16 |
                               (unsigned long)packed[2] << 8 | packed[3];
        return block_bit(self->v4_blocks, number >> 8);
    }
    if (inet_pton(AF_INET6, text, packed) != 1) return UNSURE;
    size_t block = (size_t)packed[0] << 16 | (size_t)packed[1] << 8 | packed[2];
    if (block == 0) return UNSURE; /* ::/24, where IPv4-mapped addresses lie */
    return block_bit(self->v6_blocks, block);
}

static int
screen_fingerprint(Screen *self, PyObject *value)
{
    /* `value.strip()` is `value` itself when neither end is whitespace (str.strip's test). */
    Py_ssize_t length = PyUnicode_GET_LENGTH(value);
    if (length == 0 || length > opaque_max_length) return UNSURE;
    int kind = PyUnicode_KIND(value);
    const void *data = PyUnicode_DATA(value);
    if (Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, 0)) ||
        Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, length - 1)))
        return UNSURE;
    Py_hash_t hash;
    return hash_of(value, &hash) ? hot(self, hash) : UNSURE;
}

static inline int
lower_digit_or_dash(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Exactly `plain_email` (gateway/fraud/normalise.py) on ASCII text:
 * [a-z0-9._-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+ as a full match. Non-ASCII text never matches. */
static int
plain_email(const char *text, Py_ssize_t length)
{
    Py_ssize_t at = 0;
    while (at < length && (lower_digit_or_dash(text[at]) || text[at] == '.' || text[at] == '_'))
        at++;
    if (at == 0 || at == length || text[at] != '@') return 0;
    Py_ssize_t labels = 0, run = 0;
    for (Py_ssize_t i = at + 1; i < length; i++) {
        if (lower_digit_or_dash(text[i])) {
            run++;
        } else if (text[i] == '.' && run > 0) {
            labels++;
            run = 0;
        } else {
            return 0;
        }
    }
    return run > 0 && labels >= 1;
}

static int
screen_email(Screen *self, PyObject *value)
{
    if (!PyUnicode_IS_ASCII(value) ||
        !plain_email((const char *)PyUnicode_DATA(value), PyUnicode_GET_LENGTH(value)))
        return UNSURE; /* normalise_email's work, in Python */
    Py_hash_t hash;
    return hash_of(value, &hash) ? hot(self, hash) : UNSURE;
}

static int
screen_bin(Screen *self, PyObject *value)
{
    if (!PyUnicode_IS_ASCII(value) || PyUnicode_GET_LENGTH(value) != 8) return UNSURE;
    const char *digits = (const char *)PyUnicode_DATA(value);
    for (int i = 0; i < 8; i++)
        if (digits[i] < '0' || digits[i] > '9') return UNSURE;
    /* hash(digits[:6]) from a real str: how str hashes is CPython's own (no public function
     * for it before 3.14), and one small string costs little beside the call. */
    PyObject *six = PyUnicode_Substring(value, 0, 6);
    if (six == NULL) {
        PyErr_Clear(); /* out of memory: Python's to raise */
        return UNSURE;
    }
    Py_hash_t first_six;
    int hashed = hash_of(six, &first_six);
    Py_DECREF(six);
    if (!hashed) return UNSURE;
    if (block_bit(self->bins, (size_t)first_six & (size_t)bin_bits_mask) == MISS)
        return MISS;
    /* `_bin_held`: the 8 digits held, or the 6 they start with. */
    Py_hash_t hash;
    if (!hash_of(value, &hash) || hot(self, hash) != MISS) return UNSURE;
    return hot(self, first_six);
}

static PyObject *
call_fallback(Screen *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    Py_ssize_t total = nargs + (kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames));
    PyObject *small[8], **stack = small;
    if (total + 1 > (Py_ssize_t)(sizeof(small) / sizeof(small[0]))) {
        stack = PyMem_New(PyObject *, total + 1);
        if (stack == NULL) return PyErr_NoMemory();
    }
    stack[0] = (PyObject *)self;
    if (total > 0) memcpy(stack + 1, args, total * sizeof(PyObject *));
    PyObject *result = NULL;
    /* A subclass whose blocked_in_python is this very method would recurse in C. */
    if (Py_EnterRecursiveCall(" in Matcher.blocked") == 0) {
        result = PyObject_VectorcallMethod(s_python, stack, nargs + 1, kwnames);
        Py_LeaveRecursiveCall();
    }
    if (stack != small) PyMem_Free(stack);
    return result;
}

/* blocked(kind, value, now=None): the signature of Matcher.blocked_in_python. Any other shape
 * of call (kind or value by keyword, too few or too many arguments) is Python's to accept or
 * refuse, with its own message. */
static PyObject *
Screen_blocked(Screen *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    int shaped = nargs == 2 || nargs == 3;
    if (kwnames != NULL) {
        PyObject *name = PyTuple_GET_SIZE(kwnames) == 1 ? PyTuple_GET_ITEM(kwnames, 0) : NULL;
        shaped = nargs == 2 && name != NULL &&
                 (name == s_now || PyUnicode_CompareWithASCIIString(name, "now") == 0);
    }
    /* A legacy (not ready) string is rare: Python's to read. */
    if (shaped && PyUnicode_CheckExact(args[1]) && PyUnicode_IS_READY(args[1])) {
        int verdict = UNSURE;
        switch (kind_of(args[0])) {
        case K_IP: verdict = screen_ip(self, args[1]); break;
        case K_FINGERPRINT: verdict = screen_fingerprint(self, args[1]); break;
        case K_EMAIL: verdict = screen_email(self, args[1]); break;
        case K_BIN: verdict = screen_bin(self, args[1]); break;
        default: break;
        }
        if (verdict == MISS) Py_RETURN_FALSE;
    }
    return call_fallback(self, args, nargs, kwnames);
}

/* Screen.configure(*, many, bin_bits_mask, opaque_max_length): the matcher's constants. */
static PyObject *
Screen_configure(PyObject *Py_UNUSED(cls), PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"many", "bin_bits_mask", "opaque_max_length", NULL};
    long given_many, given_opaque;
    Py_ssize_t given_mask;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$lnl:configure", names, &given_many,
                                     &given_mask, &given_opaque))
        return NULL;
    if (PyTuple_GET_SIZE(args) != 0 || kwargs == NULL || PyDict_GET_SIZE(kwargs) != 3) {
        PyErr_SetString(PyExc_TypeError, "configure takes many, bin_bits_mask and "
                                         "opaque_max_length, by keyword");
        return NULL;
    }
    if (given_many < 1 || given_many > 255 || given_mask < 0 || given_opaque < 0) {
        PyErr_SetString(PyExc_ValueError, "many, bin_bits_mask or opaque_max_length out of range");
        return NULL;
    }
    many = given_many;
    bin_bits_mask = given_mask;
    opaque_max_length = given_opaque;
    Py_RETURN_NONE;
}

static int
Screen_traverse(Screen *self, visitproc visit, void *arg)
{
    Py_VISIT(self->hot);
    Py_VISIT(self->hot_mask);
    Py_VISIT(self->v4_blocks);
    Py_VISIT(self->v6_blocks);
    Py_VISIT(self->bins);
    return 0;
}

static int
Screen_clear(Screen *self)
{
    Py_CLEAR(self->hot);
    Py_CLEAR(self->hot_mask);
    Py_CLEAR(self->v4_blocks);
    Py_CLEAR(self->v6_blocks);
    Py_CLEAR(self->bins);
    return 0;
}

static void
Screen_dealloc(Screen *self)
{
    PyObject_GC_UnTrack(self);
    Screen_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Screen_methods[] = {
    {"blocked", (PyCFunction)(void (*)(void))Screen_blocked, METH_FASTCALL | METH_KEYWORDS,
     "blocked($self, kind, value, now=None)\n--\n\n"
     "Matcher.blocked_in_python, its common misses answered in C."},
    {"configure", (PyCFunction)(void (*)(void))Screen_configure,
     METH_VARARGS | METH_KEYWORDS | METH_STATIC,
     "configure(*, many, bin_bits_mask, opaque_max_length): the matcher's constants."},
    {NULL, NULL, 0, NULL},
};

/* The matcher's tables, as slots: `self._hot = ...` in Python writes what C reads. */
static PyMemberDef Screen_members[] = {
    {"_hot", T_OBJECT_EX, offsetof(Screen, hot), 0, NULL},
    {"_hot_mask", T_OBJECT_EX, offsetof(Screen, hot_mask), 0, NULL},
    {"_v4_blocks", T_OBJECT_EX, offsetof(Screen, v4_blocks), 0, NULL},
    {"_v6_blocks", T_OBJECT_EX, offsetof(Screen, v6_blocks), 0, NULL},
    {"_bins", T_OBJECT_EX, offsetof(Screen, bins), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject ScreenType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gateway.fraud.native._screen.Screen",
    .tp_basicsize = sizeof(Screen),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The matcher's base class: its lookup tables, and blocked in C.",
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)Screen_dealloc,
    .tp_traverse = (traverseproc)Screen_traverse,
    .tp_clear = (inquiry)Screen_clear,
    .tp_methods = Screen_methods,
    .tp_members = Screen_members,
};

static struct PyModuleDef screen_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "gateway.fraud.native._screen",
    .m_doc = "The compiled screen in front of Matcher.blocked.",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__screen(void)
{
    if (PyType_Ready(&ScreenType) < 0) return NULL;
    s_ip = PyUnicode_InternFromString("ip");
    s_card_fingerprint = PyUnicode_InternFromString("card_fingerprint");
    s_email = PyUnicode_InternFromString("email");
    s_card_bin = PyUnicode_InternFromString("card_bin");
    s_now = PyUnicode_InternFromString("now");
    s_python = PyUnicode_InternFromString("blocked_in_python");
    if (!s_ip || !s_card_fingerprint || !s_email || !s_card_bin || !s_now || !s_python)
        return NULL;
    PyObject *module = PyModule_Create(&screen_module);
    if (module == NULL) return NULL;
    if (PyModule_AddStringConstant(module, "SOURCE_DIGEST", SCREEN_SOURCE_DIGEST) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    Py_INCREF(&ScreenType);
    if (PyModule_AddObject(module, "Screen", (PyObject *)&ScreenType) < 0) {
        Py_DECREF(&ScreenType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
