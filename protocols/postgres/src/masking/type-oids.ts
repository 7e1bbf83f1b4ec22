/**
 * How the result masker treats each PostgreSQL type, by the type OID a RowDescription (or a binary
 * array/record header) names. Built-in OIDs are fixed (pg_type.dat); types made at run time —
 * domains, enums, composites, extension types such as citext — have OIDs we cannot know, and are
 * handled by looking at the value (value-codecs.ts).
 */

export type TypeClass =
  /** UTF-8 text in both formats (binary send of these types is the text itself). */
  | 'text'
  /** JSON text (json, jsonb): masked field by field. */
  | 'json'
  /** Whole numbers: binary is a big-endian two's complement integer of `size` bytes. */
  | 'int'
  | 'numeric'
  | 'float'
  /** int8 cents in binary. */
  | 'money'
  | 'bytea'
  /** PostgreSQL arrays of `element`. */
  | 'array'
  /** Anonymous records (`ROW(...)`, OID 2249); named composites have run-time OIDs. */
  | 'record'
  /** Dates, times, booleans, uuids, network addresses, geometry...: no free text can hide in them. */
  | 'safe'
  /** Not a built-in we know: decided by looking at the value. */
  | 'unknown';

export interface TypeInfo {
  readonly cls: TypeClass;
  /** Byte width of binary `int`/`float` values. */
  readonly size?: number;
  /** Element type of an array. */
  readonly element?: number;
  /** Binary format is a version byte (1) followed by the text (jsonb, jsonpath). */
  readonly versioned?: boolean;
}

const T = (cls: TypeClass, extra: Omit<TypeInfo, 'cls'> = {}): TypeInfo => ({ cls, ...extra });

const TYPES = new Map<number, TypeInfo>([
  [25, T('text')], // text
  [1043, T('text')], // varchar
  [1042, T('text')], // bpchar
  [19, T('text')], // name
  [705, T('text')], // unknown (untyped literals)
  [142, T('text')], // xml
  [114, T('json')], // json
  [3802, T('json', { versioned: true })], // jsonb
  [4072, T('text', { versioned: true })], // jsonpath
  [20, T('int', { size: 8 })], // int8
  [23, T('int', { size: 4 })], // int4
  [21, T('int', { size: 2 })], // int2
  [26, T('int', { size: 4 })], // oid (unsigned, but four bytes cannot hold a card number)
  [28, T('int', { size: 4 })], // xid
  [1700, T('numeric')],
  [700, T('float', { size: 4 })],
  [701, T('float', { size: 8 })],
  [790, T('money')],
  [17, T('bytea')],
  [2249, T('record')],
  // Types whose values carry no free text.
  ...[
    16, // bool
    18, // "char": one byte
    1082, // date
    1083, // time
    1266, // timetz
    1114, // timestamp
    1184, // timestamptz
    1186, // interval
    2950, // uuid
    869, // inet
    650, // cidr
    829, // macaddr
    774, // macaddr8
    1560, // bit
    1562, // varbit
    600, // point
    601, // lseg
    602, // path
    603, // box
    604, // polygon
    628, // line
    718, // circle
    3904, // int4range
    3906, // numrange — bounds are numbers, see numeric
    3908, // tsrange
    3910, // tstzrange
    3912, // daterange
    3926, // int8range
    24, // regproc
    2202, // regprocedure
    2203, // regoper
    2204, // regoperator
    2205, // regclass
    2206, // regtype
    4096, // regrole
    4089, // regnamespace
    3220, // pg_lsn
    27, // tid
    29, // cid
    5069, // xid8
    2278, // void
  ].map((oid) => [oid, T('safe')] as const),
]);

/** Arrays of the types above: OID → element OID. */
const ARRAYS: ReadonlyArray<readonly [number, number]> = [
  [1009, 25],
  [1015, 1043],
  [1014, 1042],
  [1003, 19],
  [143, 142],
  [199, 114],
  [3807, 3802],
  [1016, 20],
  [1007, 23],
  [1005, 21],
  [1028, 26],
  [1231, 1700],
  [1021, 700],
  [1022, 701],
  [791, 790],
  [1001, 17],
  [2287, 2249],
  [1000, 16],
  [1002, 18],
  [1182, 1082],
  [1183, 1083],
  [1270, 1266],
  [1115, 1114],
  [1185, 1184],
  [1187, 1186],
  [2951, 2950],
  [1041, 869],
  [651, 650],
  [1040, 829],
  [1561, 1560],
  [1563, 1562],
  [3905, 3904],
  [3907, 3906],
  [3909, 3908],
  [3911, 3910],
  [3913, 3912],
  [3927, 3926],
];
for (const [oid, element] of ARRAYS) TYPES.set(oid, T('array', { element }));
// box[] uses ';' between elements in text; its elements are safe anyway.
TYPES.set(1020, T('safe'));

const UNKNOWN: TypeInfo = T('unknown');

export function typeInfo(oid: number): TypeInfo {
  return TYPES.get(oid) ?? UNKNOWN;
}

/** OIDs PostgreSQL assigns to built-in objects are below this; anything above was made at run time. */
export const FIRST_NORMAL_OBJECT_ID = 16384;
