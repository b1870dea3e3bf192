import { AwsError } from '../errors';

/** An AttributeValue in its wire form: `{ S: "x" }`, `{ N: "1" }`, `{ M: {...} }`, … (B as base64). */
export type AttributeValue = Readonly<Record<string, unknown>>;
export type Item = Record<string, AttributeValue>;

export const ddbInvalid = (message: string): AwsError => new AwsError('ValidationException', message, 400);

const TYPES = ['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS'] as const;
export type AttributeType = (typeof TYPES)[number];

export function typeOf(value: AttributeValue): AttributeType {
  const keys = Object.keys(value);
  const type = keys[0];
  if (keys.length !== 1 || !TYPES.includes(type as AttributeType)) {
    throw ddbInvalid('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
  }
  return type as AttributeType;
}

const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** A number as sign, significant digits and the position of the decimal point: exact, like DynamoDB's. */
function parseNumber(text: string): { sign: number; digits: string; exponent: number } {
  const m = NUMBER.exec(text.trim());
  if (!m || ((m[2] ?? '') === '' && (m[3] ?? '') === '')) throw ddbInvalid('A value provided cannot be converted into a number');
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? '';
  let digits = intPart + fracPart;
  let exponent = intPart.length + Number(m[4] ?? '0');
  const leading = /^0*/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(leading);
  exponent -= leading;
  digits = digits.replace(/0+$/, '');
  if (digits === '') return { sign: 0, digits: '', exponent: 0 };
  return { sign: m[1] === '-' ? -1 : 1, digits, exponent };
}

export function compareNumbers(a: string, b: string): number {
  const x = parseNumber(a);
  const y = parseNumber(b);
  if (x.sign !== y.sign) return x.sign < y.sign ? -1 : 1;
  if (x.sign === 0) return 0;
  // Digit strings carry no leading or trailing zeros, so with equal exponents the plain string
  // order is the numeric order (0.12 < 0.123 < 0.13).
  const magnitude = x.exponent !== y.exponent ? Math.sign(x.exponent - y.exponent) : x.digits < y.digits ? -1 : x.digits > y.digits ? 1 : 0;
  return x.sign * magnitude;
}

/** Checks an AttributeValue recursively (the shapes DynamoDB accepts). */
export function checkValue(value: unknown): AttributeValue {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw ddbInvalid('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
  }
  const av = value as AttributeValue;
  const type = typeOf(av);
  const v = av[type];
  const fail = () => {
    throw ddbInvalid(`One or more parameter values were invalid: An AttributeValue may not contain an invalid ${type} value`);
  };
  switch (type) {
    case 'S':
    case 'B':
      if (typeof v !== 'string') fail();
      break;
    case 'N':
      if (typeof v !== 'string') fail();
      parseNumber(v as string);
      break;
    case 'BOOL':
      if (typeof v !== 'boolean') fail();
      break;
    case 'NULL':
      if (v !== true) throw ddbInvalid('One or more parameter values were invalid: Null attribute value types must have the value of true');
      break;
    case 'M':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail();
      for (const inner of Object.values(v as object)) checkValue(inner);
      break;
    case 'L':
      if (!Array.isArray(v)) fail();
      for (const inner of v as unknown[]) checkValue(inner);
      break;
    default: {
      if (!Array.isArray(v) || !v.every((e) => typeof e === 'string')) fail();
      const set = v as string[];
      if (set.length === 0) throw ddbInvalid('One or more parameter values were invalid: An string set  may not be empty');
      if (type === 'NS') set.forEach(parseNumber);
      if (new Set(type === 'NS' ? set.map((n) => normalizeNumber(n)) : set).size !== set.length) {
        throw ddbInvalid('One or more parameter values were invalid: Input collection contains duplicates');
      }
    }
  }
  return av;
}

export function normalizeNumber(text: string): string {
  const { sign, digits, exponent } = parseNumber(text);
  return sign === 0 ? '0' : `${sign < 0 ? '-' : ''}0.${digits}e${exponent}`;
}

function setKeys(type: AttributeType, values: readonly string[]): string[] {
  return [...(type === 'NS' ? values.map(normalizeNumber) : values)].sort();
}

/** DynamoDB equality: same type and same value (numbers numerically, sets regardless of order). */
export function valuesEqual(a: AttributeValue, b: AttributeValue): boolean {
  const ta = typeOf(a);
  if (ta !== typeOf(b)) return false;
  const va = a[ta];
  const vb = b[ta];
  switch (ta) {
    case 'N':
      return compareNumbers(va as string, vb as string) === 0;
    case 'SS':
    case 'NS':
    case 'BS': {
      const x = setKeys(ta, va as string[]);
      const y = setKeys(ta, vb as string[]);
      return x.length === y.length && x.every((e, i) => e === y[i]);
    }
    case 'L': {
      const x = va as AttributeValue[];
      const y = vb as AttributeValue[];
      return x.length === y.length && x.every((e, i) => valuesEqual(e, y[i] as AttributeValue));
    }
    case 'M': {
      const x = va as Record<string, AttributeValue>;
      const y = vb as Record<string, AttributeValue>;
      const keys = Object.keys(x);
      return keys.length === Object.keys(y).length && keys.every((k) => y[k] !== undefined && valuesEqual(x[k] as AttributeValue, y[k]));
    }
    default:
      return va === vb;
  }
}

/** Ordering for S (UTF-8 bytes), N (numeric), B (unsigned bytes); `undefined` when not comparable. */
function order(a: AttributeValue, b: AttributeValue): number | undefined {
  const ta = typeOf(a);
  if (ta !== typeOf(b)) return undefined;
  const va = a[ta] as string;
  const vb = b[ta] as string;
  if (ta === 'N') return compareNumbers(va, vb);
  if (ta === 'S') return Buffer.compare(Buffer.from(va, 'utf8'), Buffer.from(vb, 'utf8'));
  if (ta === 'B') return Buffer.compare(Buffer.from(va, 'base64'), Buffer.from(vb, 'base64'));
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Tokens and parsing

type Token =
  | { t: 'word'; v: string; at: number }
  | { t: 'name'; v: string; at: number }
  | { t: 'value'; v: string; at: number }
  | { t: 'int'; v: string; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'end'; v: ''; at: number };

function tokenize(text: string, kind: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const m =
      /^#[A-Za-z0-9_]+/.exec(rest) ??
      /^:[A-Za-z0-9_]+/.exec(rest) ??
      /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest) ??
      /^\d+/.exec(rest) ??
      /^(<>|<=|>=|[=<>(),.[\]+-])/.exec(rest);
    if (!m) throw ddbInvalid(`Invalid ${kind}: Syntax error; token: "${rest.charAt(0)}", near: "${text.slice(Math.max(0, i - 5), i + 5)}"`);
    const v = m[0];
    const t = v.startsWith('#') ? 'name' : v.startsWith(':') ? 'value' : /^[A-Za-z_]/.test(v) ? 'word' : /^\d/.test(v) ? 'int' : 'op';
    tokens.push({ t, v, at: i } as Token);
    i += v.length;
  }
  tokens.push({ t: 'end', v: '', at: text.length });
  return tokens;
}

type Segment = { readonly name: string } | { readonly index: number };
export type Path = readonly Segment[];

type Operand =
  | { readonly k: 'path'; readonly path: Path }
  | { readonly k: 'value'; readonly value: AttributeValue }
  | { readonly k: 'size'; readonly path: Path }
  | { readonly k: 'if_not_exists'; readonly path: Path; readonly fallback: Operand }
  | { readonly k: 'list_append'; readonly a: Operand; readonly b: Operand }
  | { readonly k: 'arith'; readonly op: '+' | '-'; readonly a: Operand; readonly b: Operand };

export type Condition =
  | { readonly k: 'or' | 'and'; readonly l: Condition; readonly r: Condition }
  | { readonly k: 'not'; readonly c: Condition }
  | { readonly k: 'cmp'; readonly op: string; readonly a: Operand; readonly b: Operand }
  | { readonly k: 'between'; readonly a: Operand; readonly lo: Operand; readonly hi: Operand }
  | { readonly k: 'in'; readonly a: Operand; readonly list: readonly Operand[] }
  | { readonly k: 'fn'; readonly name: string; readonly args: readonly Operand[] };

export type UpdateAction =
  | { readonly k: 'SET'; readonly path: Path; readonly value: Operand }
  | { readonly k: 'REMOVE'; readonly path: Path }
  | { readonly k: 'ADD' | 'DELETE'; readonly path: Path; readonly value: Operand };

/**
 * The placeholders a request defines, and which of them its expressions used: DynamoDB rejects
 * an undefined placeholder and also an unused one.
 */
export class Placeholders {
  readonly usedNames = new Set<string>();
  readonly usedValues = new Set<string>();

  constructor(
    readonly names: Readonly<Record<string, string>> = {},
    readonly values: Readonly<Record<string, AttributeValue>> = {},
  ) {}

  name(token: string, kind: string): string {
    const name = this.names[token];
    if (name === undefined) throw ddbInvalid(`Invalid ${kind}: An expression attribute name used in the document path is not defined; attribute name: ${token}`);
    this.usedNames.add(token);
    return name;
  }

  value(token: string, kind: string): AttributeValue {
    const value = this.values[token];
    if (value === undefined) throw ddbInvalid(`Invalid ${kind}: An expression attribute value used in expression is not defined; attribute value: ${token}`);
    this.usedValues.add(token);
    return value;
  }

  /** Called once every expression of the request is parsed. */
  checkAllUsed(): void {
    const unusedNames = Object.keys(this.names).filter((n) => !this.usedNames.has(n));
    if (unusedNames.length > 0) throw ddbInvalid(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`);
    const unusedValues = Object.keys(this.values).filter((v) => !this.usedValues.has(v));
    if (unusedValues.length > 0) throw ddbInvalid(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`);
  }
}

const COMPARATORS = new Set(['=', '<>', '<', '<=', '>', '>=']);
const BOOLEAN_FUNCTIONS = new Set(['attribute_exists', 'attribute_not_exists', 'attribute_type', 'begins_with', 'contains']);

class Parser {
  private pos = 0;
  private readonly tokens: Token[];

  constructor(
    private readonly text: string,
    private readonly kind: 'ConditionExpression' | 'UpdateExpression',
    private readonly placeholders: Placeholders,
  ) {
    this.tokens = tokenize(text, kind);
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const token = this.peek();
    this.pos++;
    return token;
  }

  private isWord(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.t === 'word' && token.v.toUpperCase() === word;
  }

  private syntaxError(token: Token = this.peek()): AwsError {
    if (token.t === 'end') return ddbInvalid(`Invalid ${this.kind}: Syntax error; token: "<EOF>", near: "${this.text.slice(-10)}"`);
    return ddbInvalid(`Invalid ${this.kind}: Syntax error; token: "${token.v}", near: "${this.text.slice(Math.max(0, token.at - 5), token.at + token.v.length + 5)}"`);
  }

  private expect(op: string): void {
    const token = this.next();
    if (token.t !== 'op' || token.v !== op) throw this.syntaxError(token);
  }

  end(): void {
    if (this.peek().t !== 'end') throw this.syntaxError();
  }

  // condition := and (OR and)* ; and := not (AND not)* ; not := NOT not | atom
  condition(): Condition {
    let left = this.conjunction();
    while (this.isWord('OR')) {
      this.next();
      left = { k: 'or', l: left, r: this.conjunction() };
    }
    return left;
  }

  private conjunction(): Condition {
    let left = this.negation();
    while (this.isWord('AND')) {
      this.next();
      left = { k: 'and', l: left, r: this.negation() };
    }
    return left;
  }

  private negation(): Condition {
    if (this.isWord('NOT')) {
      this.next();
      return { k: 'not', c: this.negation() };
    }
    return this.atom();
  }

  private atom(): Condition {
    const token = this.peek();
    if (token.t === 'op' && token.v === '(') {
      this.next();
      const inner = this.condition();
      this.expect(')');
      return inner;
    }
    if (token.t === 'word' && BOOLEAN_FUNCTIONS.has(token.v) && this.peek(1).v === '(') {
      this.next();
      this.expect('(');
      const args: Operand[] = [this.operand()];
      while (this.peek().v === ',') {
        this.next();
        args.push(this.operand());
      }
      this.expect(')');
      const arity = token.v.startsWith('attribute_') && token.v !== 'attribute_type' ? 1 : 2;
      if (args.length !== arity) throw ddbInvalid(`Invalid ${this.kind}: Incorrect number of operands for operator or function; operator or function: ${token.v}, number of operands: ${args.length}`);
      if (arity === 1 && args[0]?.k !== 'path') throw ddbInvalid(`Invalid ${this.kind}: Operator or function requires a document path; operator or function: ${token.v}`);
      return { k: 'fn', name: token.v, args };
    }
    const a = this.operand();
    const op = this.peek();
    if (op.t === 'op' && COMPARATORS.has(op.v)) {
      this.next();
      return { k: 'cmp', op: op.v, a, b: this.operand() };
    }
    if (this.isWord('BETWEEN')) {
      this.next();
      const lo = this.operand();
      if (!this.isWord('AND')) throw this.syntaxError();
      this.next();
      return { k: 'between', a, lo, hi: this.operand() };
    }
    if (this.isWord('IN')) {
      this.next();
      this.expect('(');
      const list: Operand[] = [this.operand()];
      while (this.peek().v === ',') {
        this.next();
        list.push(this.operand());
      }
      this.expect(')');
      return { k: 'in', a, list };
    }
    throw this.syntaxError(op);
  }

  /** path | :value | size(path) (conditions); update values add if_not_exists, list_append, + and -. */
  operand(): Operand {
    const token = this.peek();
    if (token.t === 'value') {
      this.next();
      return { k: 'value', value: this.placeholders.value(token.v, this.kind) };
    }
    if (token.t === 'word' && this.peek(1).v === '(') {
      this.next();
      this.expect('(');
      let operand: Operand;
      if (token.v === 'size' && this.kind === 'ConditionExpression') {
        operand = { k: 'size', path: this.path() };
      } else if (token.v === 'if_not_exists' && this.kind === 'UpdateExpression') {
        const path = this.path();
        this.expect(',');
        operand = { k: 'if_not_exists', path, fallback: this.operand() };
      } else if (token.v === 'list_append' && this.kind === 'UpdateExpression') {
        const a = this.operand();
        this.expect(',');
        operand = { k: 'list_append', a, b: this.operand() };
      } else {
        throw ddbInvalid(`Invalid ${this.kind}: Invalid function name; function: ${token.v}`);
      }
      this.expect(')');
      return operand;
    }
    return { k: 'path', path: this.path() };
  }

  path(): Path {
    const segments: Segment[] = [this.nameSegment()];
    for (;;) {
      const token = this.peek();
      if (token.t === 'op' && token.v === '.') {
        this.next();
        segments.push(this.nameSegment());
      } else if (token.t === 'op' && token.v === '[') {
        this.next();
        const index = this.next();
        if (index.t !== 'int') throw this.syntaxError(index);
        this.expect(']');
        segments.push({ index: Number(index.v) });
      } else {
        return segments;
      }
    }
  }

  private nameSegment(): Segment {
    const token = this.next();
    if (token.t === 'name') return { name: this.placeholders.name(token.v, this.kind) };
    if (token.t === 'word') return { name: token.v };
    throw this.syntaxError(token);
  }

  // update := (SET a, b | REMOVE p, q | ADD p v | DELETE p v)+, each clause at most once
  update(): UpdateAction[] {
    const actions: UpdateAction[] = [];
    const seen = new Set<string>();
    while (this.peek().t !== 'end') {
      const clause = this.next();
      const keyword = clause.t === 'word' ? clause.v.toUpperCase() : '';
      if (!['SET', 'REMOVE', 'ADD', 'DELETE'].includes(keyword)) throw this.syntaxError(clause);
      if (seen.has(keyword)) throw ddbInvalid(`Invalid UpdateExpression: The "${keyword}" section can only be used once in an update expression;`);
      seen.add(keyword);
      for (;;) {
        const path = this.path();
        if (keyword === 'SET') {
          this.expect('=');
          let value = this.operand();
          const op = this.peek();
          if (op.t === 'op' && (op.v === '+' || op.v === '-')) {
            this.next();
            value = { k: 'arith', op: op.v, a: value, b: this.operand() };
          }
          actions.push({ k: 'SET', path, value });
        } else if (keyword === 'REMOVE') {
          actions.push({ k: 'REMOVE', path });
        } else {
          actions.push({ k: keyword as 'ADD' | 'DELETE', path, value: this.operand() });
        }
        if (this.peek().v !== ',') break;
        this.next();
      }
    }
    if (actions.length === 0) throw this.syntaxError();
    return actions;
  }
}

export function parseCondition(text: string, placeholders: Placeholders): Condition {
  if (text.trim() === '') throw ddbInvalid('Invalid ConditionExpression: The expression can not be empty;');
  const parser = new Parser(text, 'ConditionExpression', placeholders);
  const condition = parser.condition();
  parser.end();
  return condition;
}

export function parseUpdate(text: string, placeholders: Placeholders): UpdateAction[] {
  if (text.trim() === '') throw ddbInvalid('Invalid UpdateExpression: The expression can not be empty;');
  const parser = new Parser(text, 'UpdateExpression', placeholders);
  return parser.update();
}

// ---------------------------------------------------------------------------------------------
// Evaluation

export function pathText(path: Path): string {
  return path.map((s, i) => ('name' in s ? `${i === 0 ? '' : '.'}${s.name}` : `[${s.index}]`)).join('');
}

export function resolvePath(item: Item | undefined, path: Path): AttributeValue | undefined {
  let current: AttributeValue | undefined = undefined;
  for (const [i, segment] of path.entries()) {
    if (i === 0) {
      current = 'name' in segment ? item?.[segment.name] : undefined;
      continue;
    }
    if (current === undefined) return undefined;
    if ('name' in segment) {
      const map = current.M as Record<string, AttributeValue> | undefined;
      current = map?.[segment.name];
    } else {
      const list = current.L as AttributeValue[] | undefined;
      current = list?.[segment.index];
    }
  }
  return current;
}

function operandValue(operand: Operand, item: Item | undefined): AttributeValue | undefined {
  switch (operand.k) {
    case 'value':
      return operand.value;
    case 'path':
      return resolvePath(item, operand.path);
    case 'size': {
      const v = resolvePath(item, operand.path);
      if (v === undefined) return undefined;
      const t = typeOf(v);
      const inner = v[t];
      if (t === 'S') return { N: String([...(inner as string)].length) };
      if (t === 'B') return { N: String(Buffer.from(inner as string, 'base64').length) };
      if (t === 'M') return { N: String(Object.keys(inner as object).length) };
      if (Array.isArray(inner)) return { N: String(inner.length) };
      throw ddbInvalid(`Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: ${t}`);
    }
    case 'if_not_exists':
      return resolvePath(item, operand.path) ?? operandValue(operand.fallback, item);
    case 'list_append': {
      const a = operandValue(operand.a, item);
      const b = operandValue(operand.b, item);
      if (!a || !b || typeOf(a) !== 'L' || typeOf(b) !== 'L') {
        throw ddbInvalid('Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append');
      }
      return { L: [...(a.L as AttributeValue[]), ...(b.L as AttributeValue[])] };
    }
    case 'arith': {
      const a = operandValue(operand.a, item);
      const b = operandValue(operand.b, item);
      if (a === undefined || b === undefined) {
        throw ddbInvalid('The provided expression refers to an attribute that does not exist in the item');
      }
      if (typeOf(a) !== 'N' || typeOf(b) !== 'N') {
        throw ddbInvalid(`Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ${operand.op}`);
      }
      const x = Number(a.N);
      const y = Number(b.N);
      return { N: String(operand.op === '+' ? x + y : x - y) };
    }
  }
}

export function evaluate(condition: Condition, item: Item | undefined): boolean {
  switch (condition.k) {
    case 'or':
      return evaluate(condition.l, item) || evaluate(condition.r, item);
    case 'and':
      return evaluate(condition.l, item) && evaluate(condition.r, item);
    case 'not':
      return !evaluate(condition.c, item);
    case 'cmp': {
      const a = operandValue(condition.a, item);
      const b = operandValue(condition.b, item);
      // A missing attribute equals nothing, so it is "not equal" to everything.
      if (a === undefined || b === undefined) return condition.op === '<>';
      if (condition.op === '=') return valuesEqual(a, b);
      if (condition.op === '<>') return !valuesEqual(a, b);
      const c = order(a, b);
      if (c === undefined) return false;
      return condition.op === '<' ? c < 0 : condition.op === '<=' ? c <= 0 : condition.op === '>' ? c > 0 : c >= 0;
    }
    case 'between': {
      const a = operandValue(condition.a, item);
      const lo = operandValue(condition.lo, item);
      const hi = operandValue(condition.hi, item);
      if (!a || !lo || !hi) return false;
      const low = order(a, lo);
      const high = order(a, hi);
      return low !== undefined && high !== undefined && low >= 0 && high <= 0;
    }
    case 'in': {
      const a = operandValue(condition.a, item);
      return a !== undefined && condition.list.some((o) => {
        const v = operandValue(o, item);
        return v !== undefined && valuesEqual(a, v);
      });
    }
    case 'fn':
      return evaluateFunction(condition.name, condition.args, item);
  }
}

function evaluateFunction(name: string, args: readonly Operand[], item: Item | undefined): boolean {
  const first = args[0] as Operand;
  const value = operandValue(first, item);
  if (name === 'attribute_exists') return value !== undefined;
  if (name === 'attribute_not_exists') return value === undefined;
  const arg = operandValue(args[1] as Operand, item);
  if (value === undefined || arg === undefined) return false;
  const type = typeOf(value);
  if (name === 'attribute_type') return typeOf(arg) === 'S' && arg.S === type;
  if (name === 'begins_with') {
    const argType = typeOf(arg);
    if (type === 'S' && argType === 'S') return (value.S as string).startsWith(arg.S as string);
    if (type === 'B' && argType === 'B') {
      const prefix = Buffer.from(arg.B as string, 'base64');
      return Buffer.from(value.B as string, 'base64').subarray(0, prefix.length).equals(prefix);
    }
    return false;
  }
  // contains
  if (type === 'S') return typeOf(arg) === 'S' && (value.S as string).includes(arg.S as string);
  if (type === 'SS' || type === 'NS' || type === 'BS') {
    const elementType = type.charAt(0);
    return typeOf(arg) === elementType && (value[type] as string[]).some((e) => valuesEqual({ [elementType]: e }, arg));
  }
  if (type === 'L') return (value.L as AttributeValue[]).some((e) => valuesEqual(e, arg));
  return false;
}

/** Sets `value` at `path` inside `item` (a fresh copy is expected). Parents must exist, as in DynamoDB. */
function assign(item: Item, path: Path, value: AttributeValue | undefined): void {
  const invalid = () => ddbInvalid('The document path provided in the update expression is invalid for update');
  const first = path[0];
  if (!first || !('name' in first)) throw invalid();
  if (path.length === 1) {
    if (value === undefined) delete item[first.name];
    else item[first.name] = value;
    return;
  }
  const parentPath = path.slice(0, -1);
  const parent = resolvePath(item, parentPath);
  const last = path[path.length - 1] as Segment;
  if (!parent) throw invalid();
  let replacement: AttributeValue;
  if ('name' in last) {
    if (typeOf(parent) !== 'M') throw invalid();
    const map = { ...(parent.M as Record<string, AttributeValue>) };
    if (value === undefined) delete map[last.name];
    else map[last.name] = value;
    replacement = { M: map };
  } else {
    if (typeOf(parent) !== 'L') throw invalid();
    const list = [...(parent.L as AttributeValue[])];
    if (value === undefined) list.splice(last.index, 1);
    else if (last.index >= list.length) list.push(value);
    else list[last.index] = value;
    replacement = { L: list };
  }
  assign(item, parentPath, replacement);
}

/**
 * Applies the update to a copy of `old` (the item before the update; every right-hand side is
 * evaluated against it, as DynamoDB does) and returns the new item and the paths it touched.
 */
export function applyUpdate(old: Item | undefined, actions: readonly UpdateAction[], keyName: string): { item: Item; touched: string[] } {
  const item: Item = structuredClone(old ?? {});
  const touched: string[] = [];
  for (const action of actions) {
    const text = pathText(action.path);
    if (action.path.length === 1 && 'name' in (action.path[0] as Segment) && text === keyName) {
      throw ddbInvalid(`One or more parameter values were invalid: Cannot update attribute ${keyName}. This attribute is part of the key`);
    }
    const overlap = touched.find((t) => t === text || t.startsWith(`${text}.`) || text.startsWith(`${t}.`) || t.startsWith(`${text}[`) || text.startsWith(`${t}[`));
    if (overlap !== undefined) {
      throw ddbInvalid(`Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [${overlap}], path two: [${text}]`);
    }
    touched.push(text);
  }
  for (const action of actions) {
    if (action.k === 'SET') {
      const value = operandValue(action.value, old);
      if (value === undefined) throw ddbInvalid('The provided expression refers to an attribute that does not exist in the item');
      assign(item, action.path, value);
    } else if (action.k === 'REMOVE') {
      if (resolvePath(item, action.path) !== undefined) assign(item, action.path, undefined);
    } else {
      const value = operandValue(action.value, old) as AttributeValue;
      const current = resolvePath(old, action.path);
      const type = typeOf(value);
      if (action.k === 'ADD' && type === 'N') {
        if (current !== undefined && typeOf(current) !== 'N') throw ddbInvalid('An operand in the update expression has an incorrect data type');
        assign(item, action.path, { N: String(Number(current?.N ?? '0') + Number(value.N)) });
      } else if (type === 'SS' || type === 'NS' || type === 'BS') {
        if (current !== undefined && typeOf(current) !== type) throw ddbInvalid('An operand in the update expression has an incorrect data type');
        const existing = (current?.[type] as string[] | undefined) ?? [];
        const change = value[type] as string[];
        const same = (a: string, b: string) => (type === 'NS' ? compareNumbers(a, b) === 0 : a === b);
        const next = action.k === 'ADD' ? [...existing, ...change.filter((c) => !existing.some((e) => same(e, c)))] : existing.filter((e) => !change.some((c) => same(e, c)));
        assign(item, action.path, next.length > 0 ? { [type]: next } : undefined);
      } else {
        throw ddbInvalid(`Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ${action.k}, operand type: ${type}`);
      }
    }
  }
  return { item, touched };
}
