import { randomUUID } from 'node:crypto';
import { AwsError } from '../errors';
import {
  type AttributeValue,
  type Condition,
  type Item,
  type UpdateAction,
  applyUpdate,
  checkValue,
  ddbInvalid,
  evaluate,
  normalizeNumber,
  typeOf,
} from './dynamodb-expressions';

export interface Table {
  readonly name: string;
  readonly tableId: string;
  /** The partition key (the endpoint supports tables with a partition key only). */
  readonly keyName: string;
  readonly keyType: 'S' | 'N' | 'B';
  readonly billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
  readonly provisioned?: { read: number; write: number };
  readonly createdDate: Date;
  ttl?: { attributeName: string; enabled: boolean };
  readonly items: Map<string, Item>;
}

export interface DynamoSnapshot {
  tables: {
    name: string;
    tableId: string;
    keyName: string;
    keyType: 'S' | 'N' | 'B';
    billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
    provisioned?: { read: number; write: number };
    createdDate: string;
    ttl?: { attributeName: string; enabled: boolean };
    items: Item[];
  }[];
}

export interface DynamoDeps {
  readonly now: () => Date;
  readonly changed: () => void;
}

const tableNotFound = (): AwsError => new AwsError('ResourceNotFoundException', 'Requested resource not found', 400);

/** What a conditional write checks, already parsed. */
export interface WriteCondition {
  readonly condition?: Condition;
  /** ReturnValuesOnConditionCheckFailure=ALL_OLD: the failure carries the item. */
  readonly returnItemOnFailure?: boolean;
}

/**
 * Tables keyed by one partition key, and the item writes the rotation lock needs: put, get,
 * delete and update, each with an optional condition evaluated against the current item.
 * Node.js runs each call to completion, so a check-and-write is atomic, like DynamoDB's.
 */
export class DynamoModel {
  private readonly tables = new Map<string, Table>();

  constructor(private readonly deps: DynamoDeps) {}

  createTable(input: {
    name: string;
    keyName: string;
    keyType: 'S' | 'N' | 'B';
    billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
    provisioned?: { read: number; write: number };
  }): Table {
    if (input.name.length < 3 || input.name.length > 255) {
      throw ddbInvalid(`1 validation error detected: Value '${input.name}' at 'tableName' failed to satisfy constraint: Member must have length between 3 and 255`);
    }
    if (!/^[a-zA-Z0-9_.-]+$/.test(input.name)) {
      throw ddbInvalid(`1 validation error detected: Value '${input.name}' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+`);
    }
    if (this.tables.has(input.name)) throw new AwsError('ResourceInUseException', `Table already exists: ${input.name}`, 400);
    const table: Table = { ...input, tableId: randomUUID(), createdDate: this.deps.now(), items: new Map() };
    this.tables.set(table.name, table);
    this.deps.changed();
    return table;
  }

  table(name: string): Table {
    const table = this.tables.get(name);
    if (!table) throw tableNotFound();
    return table;
  }

  describeTable(name: string): Table {
    const table = this.tables.get(name);
    if (!table) throw new AwsError('ResourceNotFoundException', `Requested resource not found: Table: ${name} not found`, 400);
    return table;
  }

  deleteTable(name: string): Table {
    const table = this.describeTable(name);
    this.tables.delete(name);
    this.deps.changed();
    return table;
  }

  listTables(): string[] {
    return [...this.tables.keys()].sort();
  }

  setTtl(name: string, attributeName: string, enabled: boolean): void {
    const table = this.describeTable(name);
    table.ttl = { attributeName, enabled };
    this.deps.changed();
  }

  /** The storage key of an item: its partition key, checked against the table's key schema. */
  keyOf(table: Table, item: Readonly<Record<string, unknown>>, what: 'item' | 'key'): string {
    const value = item[table.keyName];
    if (value === undefined) {
      throw ddbInvalid(
        what === 'item'
          ? `One or more parameter values were invalid: Missing the key ${table.keyName} in the item`
          : 'The provided key element does not match the schema',
      );
    }
    const av = checkValue(value);
    const type = typeOf(av);
    if (type !== table.keyType) {
      throw ddbInvalid(
        what === 'item'
          ? `One or more parameter values were invalid: Type mismatch for key ${table.keyName} expected: ${table.keyType} actual: ${type}`
          : 'The provided key element does not match the schema',
      );
    }
    const raw = av[type] as string;
    if ((type === 'S' || type === 'B') && raw === '') {
      throw ddbInvalid(`One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${type === 'S' ? 'string' : 'binary'} value. Key: ${table.keyName}`);
    }
    if (what === 'key' && Object.keys(item).length !== 1) throw ddbInvalid('The provided key element does not match the schema');
    return `${type}:${type === 'N' ? normalizeNumber(raw) : raw}`;
  }

  getItem(tableName: string, key: Readonly<Record<string, unknown>>): Item | undefined {
    const table = this.table(tableName);
    return table.items.get(this.keyOf(table, key, 'key'));
  }

  /** PutItem: replaces the whole item if the condition holds; returns the old item. */
  putItem(tableName: string, item: Readonly<Record<string, unknown>>, write: WriteCondition): Item | undefined {
    const table = this.table(tableName);
    const checked: Item = {};
    for (const [name, value] of Object.entries(item)) checked[name] = checkValue(value);
    const storageKey = this.keyOf(table, checked, 'item');
    const old = table.items.get(storageKey);
    this.check(old, write);
    table.items.set(storageKey, checked);
    this.deps.changed();
    return old;
  }

  deleteItem(tableName: string, key: Readonly<Record<string, unknown>>, write: WriteCondition): Item | undefined {
    const table = this.table(tableName);
    const storageKey = this.keyOf(table, key, 'key');
    const old = table.items.get(storageKey);
    this.check(old, write);
    if (old) {
      table.items.delete(storageKey);
      this.deps.changed();
    }
    return old;
  }

  /** UpdateItem: creates the item when absent (an "upsert"), as DynamoDB does. */
  updateItem(
    tableName: string,
    key: Readonly<Record<string, unknown>>,
    actions: readonly UpdateAction[],
    write: WriteCondition,
  ): { old?: Item; item: Item; touched: string[] } {
    const table = this.table(tableName);
    const storageKey = this.keyOf(table, key, 'key');
    const old = table.items.get(storageKey);
    this.check(old, write);
    const base: Item = old ?? { [table.keyName]: checkValue(key[table.keyName]) };
    const { item, touched } = applyUpdate(base, actions, table.keyName);
    table.items.set(storageKey, item);
    this.deps.changed();
    return { old, item, touched };
  }

  snapshot(): DynamoSnapshot {
    return {
      tables: [...this.tables.values()].map((t) => ({
        name: t.name,
        tableId: t.tableId,
        keyName: t.keyName,
        keyType: t.keyType,
        billingMode: t.billingMode,
        provisioned: t.provisioned,
        createdDate: t.createdDate.toISOString(),
        ttl: t.ttl,
        items: [...t.items.values()],
      })),
    };
  }

  restore(snapshot: DynamoSnapshot): void {
    this.tables.clear();
    for (const t of snapshot.tables) {
      const table: Table = {
        name: t.name,
        tableId: t.tableId,
        keyName: t.keyName,
        keyType: t.keyType,
        billingMode: t.billingMode,
        provisioned: t.provisioned,
        createdDate: new Date(t.createdDate),
        ttl: t.ttl,
        items: new Map(),
      };
      for (const item of t.items) table.items.set(this.keyOf(table, item, 'item'), item);
      this.tables.set(table.name, table);
    }
  }

  private check(old: Item | undefined, write: WriteCondition): void {
    if (write.condition && !evaluate(write.condition, old)) {
      throw new AwsError('ConditionalCheckFailedException', 'The conditional request failed', 400, write.returnItemOnFailure && old ? { Item: old } : {});
    }
  }
}

export type { AttributeValue, Item };
