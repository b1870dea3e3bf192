import { AwsError } from '../errors';
import type { JsonOperation } from '../protocol/context';
import type { JsonInput } from '../protocol/input';
import { type DynamoModel, type Item, type Table, type WriteCondition } from './dynamodb';
import { type AttributeValue, type UpdateAction, Placeholders, checkValue, ddbInvalid, parseCondition, parseUpdate } from './dynamodb-expressions';

const LEGACY = ['Expected', 'AttributeUpdates', 'ConditionalOperator', 'KeyConditions', 'QueryFilter', 'ScanFilter'];

function stringMap(input: JsonInput, name: string): Record<string, string> | undefined {
  const map = input.stringMap(name);
  if (map !== undefined && Object.keys(map).length === 0) throw ddbInvalid(`${name} must not be empty`);
  return map;
}

/**
 * Parses a write's expressions and checks their placeholders the way DynamoDB does: every
 * `#name` / `:value` used must be defined, and every one defined must be used.
 */
function expressions(input: JsonInput, withUpdate: boolean): WriteCondition & { update?: UpdateAction[] } {
  for (const legacy of LEGACY) {
    if (input.has(legacy)) {
      throw ddbInvalid(`The local endpoint supports expression parameters only; use ConditionExpression/UpdateExpression instead of ${legacy}`);
    }
  }
  const names = stringMap(input, 'ExpressionAttributeNames');
  const rawValues = input.object('ExpressionAttributeValues');
  if (rawValues !== undefined && Object.keys(rawValues).length === 0) throw ddbInvalid('ExpressionAttributeValues must not be empty');
  const values: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(rawValues ?? {})) values[k] = checkValue(v);
  const conditionText = input.string('ConditionExpression');
  const updateText = withUpdate ? input.string('UpdateExpression') : undefined;
  if (conditionText === undefined && updateText === undefined) {
    if (names !== undefined) throw ddbInvalid('ExpressionAttributeNames can only be specified when using expressions');
    if (rawValues !== undefined) throw ddbInvalid('ExpressionAttributeValues can only be specified when using expressions');
  }
  const placeholders = new Placeholders(names, values);
  const condition = conditionText === undefined ? undefined : parseCondition(conditionText, placeholders);
  const update = updateText === undefined ? undefined : parseUpdate(updateText, placeholders);
  placeholders.checkAllUsed();
  const onFailure = input.string('ReturnValuesOnConditionCheckFailure') ?? 'NONE';
  if (onFailure !== 'NONE' && onFailure !== 'ALL_OLD') throw ddbInvalid('ReturnValuesOnConditionCheckFailure set to invalid value');
  return { condition, update, returnItemOnFailure: onFailure === 'ALL_OLD' };
}

function returnValues(input: JsonInput, allowed: readonly string[]): string {
  const value = input.string('ReturnValues') ?? 'NONE';
  if (!allowed.includes(value)) throw ddbInvalid('Return values set to invalid value');
  return value;
}

function pick(item: Item | undefined, names: readonly string[]): Item | undefined {
  if (!item) return undefined;
  const out: Item = {};
  for (const name of names) {
    const value = item[name];
    if (value !== undefined) out[name] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export function dynamodbApi(model: DynamoModel, region: string, accountId: string): Record<string, JsonOperation> {
  const describe = (table: Table, status = 'ACTIVE') => ({
    TableName: table.name,
    TableId: table.tableId,
    TableArn: `arn:aws:dynamodb:${region}:${accountId}:table/${table.name}`,
    TableStatus: status,
    KeySchema: [{ AttributeName: table.keyName, KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: table.keyName, AttributeType: table.keyType }],
    CreationDateTime: table.createdDate,
    ItemCount: table.items.size,
    TableSizeBytes: [...table.items.values()].reduce((n, item) => n + Buffer.byteLength(JSON.stringify(item)), 0),
    ProvisionedThroughput: { NumberOfDecreasesToday: 0, ReadCapacityUnits: table.provisioned?.read ?? 0, WriteCapacityUnits: table.provisioned?.write ?? 0 },
    BillingModeSummary: { BillingMode: table.billingMode },
    DeletionProtectionEnabled: false,
  });

  return {
    CreateTable: (input) => {
      const name = input.requiredString('TableName');
      const schema = input.raw('KeySchema');
      const definitions = input.raw('AttributeDefinitions');
      if (!Array.isArray(schema) || !Array.isArray(definitions)) throw ddbInvalid('KeySchema and AttributeDefinitions are required');
      const hash = schema as { AttributeName?: unknown; KeyType?: unknown }[];
      if (hash.length !== 1 || hash[0]?.KeyType !== 'HASH' || typeof hash[0].AttributeName !== 'string') {
        throw ddbInvalid('The local endpoint supports tables with a single HASH (partition) key only');
      }
      const keyName = hash[0].AttributeName;
      const defs = definitions as { AttributeName?: unknown; AttributeType?: unknown }[];
      if (defs.length !== 1) {
        throw ddbInvalid('One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions');
      }
      const def = defs[0];
      if (def?.AttributeName !== keyName) {
        throw ddbInvalid('One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [' + keyName + '], AttributeDefinitions: [' + String(def?.AttributeName) + ']');
      }
      const keyType = def.AttributeType;
      if (keyType !== 'S' && keyType !== 'N' && keyType !== 'B') {
        throw ddbInvalid(`1 validation error detected: Value '${String(keyType)}' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]`);
      }
      const billingMode = input.string('BillingMode') ?? 'PROVISIONED';
      if (billingMode !== 'PROVISIONED' && billingMode !== 'PAY_PER_REQUEST') throw ddbInvalid(`Invalid BillingMode: ${billingMode}`);
      const throughput = input.struct('ProvisionedThroughput');
      if (billingMode === 'PROVISIONED' && !throughput) throw ddbInvalid('One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED');
      if (billingMode === 'PAY_PER_REQUEST' && throughput) throw ddbInvalid('One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST');
      const provisioned = throughput ? { read: throughput.integer('ReadCapacityUnits') ?? 0, write: throughput.integer('WriteCapacityUnits') ?? 0 } : undefined;
      const table = model.createTable({ name, keyName, keyType, billingMode, provisioned });
      return { TableDescription: describe(table) };
    },

    DescribeTable: (input) => ({ Table: describe(model.describeTable(input.requiredString('TableName'))) }),

    DeleteTable: (input) => ({ TableDescription: describe(model.deleteTable(input.requiredString('TableName')), 'DELETING') }),

    ListTables: () => ({ TableNames: model.listTables() }),

    UpdateTimeToLive: (input) => {
      const spec = input.struct('TimeToLiveSpecification');
      const attributeName = spec?.requiredString('AttributeName');
      const enabled = spec?.boolean('Enabled');
      if (attributeName === undefined || enabled === undefined) throw ddbInvalid('TimeToLiveSpecification needs AttributeName and Enabled');
      model.setTtl(input.requiredString('TableName'), attributeName, enabled);
      return { TimeToLiveSpecification: { AttributeName: attributeName, Enabled: enabled } };
    },

    DescribeTimeToLive: (input) => {
      const ttl = model.describeTable(input.requiredString('TableName')).ttl;
      return {
        TimeToLiveDescription: ttl?.enabled ? { TimeToLiveStatus: 'ENABLED', AttributeName: ttl.attributeName } : { TimeToLiveStatus: 'DISABLED' },
      };
    },

    GetItem: (input) => {
      if (input.has('ProjectionExpression') || input.has('AttributesToGet')) {
        throw ddbInvalid('The local endpoint does not support projections on GetItem');
      }
      const key = input.object('Key');
      if (!key) throw ddbInvalid("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null");
      const item = model.getItem(input.requiredString('TableName'), key);
      return item ? { Item: item } : {};
    },

    PutItem: (input) => {
      const item = input.object('Item');
      if (!item) throw ddbInvalid("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null");
      const mode = returnValues(input, ['NONE', 'ALL_OLD']);
      const old = model.putItem(input.requiredString('TableName'), item, expressions(input, false));
      return mode === 'ALL_OLD' && old ? { Attributes: old } : {};
    },

    DeleteItem: (input) => {
      const key = input.object('Key');
      if (!key) throw ddbInvalid("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null");
      const mode = returnValues(input, ['NONE', 'ALL_OLD']);
      const old = model.deleteItem(input.requiredString('TableName'), key, expressions(input, false));
      return mode === 'ALL_OLD' && old ? { Attributes: old } : {};
    },

    UpdateItem: (input) => {
      const key = input.object('Key');
      if (!key) throw ddbInvalid("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null");
      const mode = returnValues(input, ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW']);
      const parsed = expressions(input, true);
      if (!parsed.update) throw new AwsError('ValidationException', 'The local endpoint needs an UpdateExpression for UpdateItem', 400);
      const { old, item, touched } = model.updateItem(input.requiredString('TableName'), key, parsed.update, parsed);
      const topLevel = [...new Set(touched.map((t) => t.split(/[.[]/)[0] ?? t))];
      const attributes =
        mode === 'ALL_OLD' ? old : mode === 'ALL_NEW' ? item : mode === 'UPDATED_OLD' ? pick(old, topLevel) : mode === 'UPDATED_NEW' ? pick(item, topLevel) : undefined;
      return attributes ? { Attributes: attributes } : {};
    },
  };
}
