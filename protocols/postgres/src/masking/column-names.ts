/**
 * The name PostgreSQL gives a result column that has no alias (FigureColnameInternal in
 * parse_target.c): the column's or function's name, a keyword for some constructs, `?column?`
 * otherwise. Names matter to lineage because outer queries refer to subquery columns by them.
 */
import { type TreeObject, treeList, unwrapNode } from '../sql/parse-tree.js';

const UNNAMED = '?column?';

export function figureColname(node: unknown): string {
  return figure(node)[0] ?? UNNAMED;
}

/** [name, strength]: 2 for real names, 1 for fallbacks a CASE may override, 0 for none. */
function figure(node: unknown): [string | undefined, number] {
  const u = unwrapNode(node);
  if (u === undefined) return [undefined, 0];
  const [type, body] = u;
  switch (type) {
    case 'ColumnRef': {
      const last = lastString(body['fields']);
      return last === undefined ? [undefined, 0] : [last, 2];
    }
    case 'A_Indirection': {
      const last = lastString(body['indirection']);
      return last === undefined ? figure(body['arg']) : [last, 2];
    }
    case 'FuncCall': {
      const last = lastString(body['funcname']);
      return last === undefined ? [undefined, 0] : [last, 2];
    }
    case 'A_Expr':
      return body['kind'] === 'AEXPR_NULLIF' ? ['nullif', 2] : [undefined, 0];
    case 'TypeCast': {
      const inner = figure(body['arg']);
      if (inner[1] > 0) return inner;
      const typeName = body['typeName'] as TreeObject | undefined;
      const name = lastString(typeName?.['names']);
      return name === undefined ? [undefined, 0] : [name, 1];
    }
    case 'CollateClause':
      return figure(body['arg']);
    case 'GroupingFunc':
      return ['grouping', 2];
    case 'MergeSupportFunc':
      return ['merge_action', 2];
    case 'SubLink':
      switch (body['subLinkType']) {
        case 'EXISTS_SUBLINK':
          return ['exists', 2];
        case 'ARRAY_SUBLINK':
          return ['array', 2];
        case 'EXPR_SUBLINK': {
          const select = unwrapNode(body['subselect']);
          const first = unwrapNode(treeList(select?.[1]['targetList'])[0]);
          if (first === undefined) return [undefined, 0];
          const alias = first[1]['name'];
          if (typeof alias === 'string') return [alias, 2];
          return figure(first[1]['val']);
        }
        default:
          return [undefined, 0];
      }
    case 'CaseExpr': {
      const inner = figure(body['defresult']);
      return inner[1] <= 1 ? ['case', 1] : inner;
    }
    case 'A_ArrayExpr':
      return ['array', 2];
    case 'RowExpr':
      return ['row', 2];
    case 'CoalesceExpr':
      return ['coalesce', 2];
    case 'MinMaxExpr':
      return [body['op'] === 'IS_GREATEST' ? 'greatest' : 'least', 2];
    case 'SQLValueFunction':
      return [sqlValueFunctionName(body['op']), 2];
    case 'XmlExpr':
      return [xmlName(body['op']), 2];
    case 'XmlSerialize':
      return ['xmlserialize', 2];
    case 'JsonParseExpr':
      return ['json', 2];
    case 'JsonScalarExpr':
      return ['json_scalar', 2];
    case 'JsonSerializeExpr':
      return ['json_serialize', 2];
    case 'JsonObjectConstructor':
      return ['json_object', 2];
    case 'JsonArrayConstructor':
    case 'JsonArrayQueryConstructor':
      return ['json_array', 2];
    case 'JsonObjectAgg':
      return ['json_objectagg', 2];
    case 'JsonArrayAgg':
      return ['json_arrayagg', 2];
    case 'JsonFuncExpr':
      return [jsonFuncName(body['op']), 2];
    default:
      return [undefined, 0];
  }
}

function lastString(list: unknown): string | undefined {
  const items = treeList(list);
  const last = unwrapNode(items[items.length - 1]);
  if (last === undefined || last[0] !== 'String') return undefined;
  const s = last[1]['sval'];
  return typeof s === 'string' ? s : undefined;
}

function sqlValueFunctionName(op: unknown): string {
  const names: Record<string, string> = {
    SVFOP_CURRENT_DATE: 'current_date',
    SVFOP_CURRENT_TIME: 'current_time',
    SVFOP_CURRENT_TIME_N: 'current_time',
    SVFOP_CURRENT_TIMESTAMP: 'current_timestamp',
    SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp',
    SVFOP_LOCALTIME: 'localtime',
    SVFOP_LOCALTIME_N: 'localtime',
    SVFOP_LOCALTIMESTAMP: 'localtimestamp',
    SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
    SVFOP_CURRENT_ROLE: 'current_role',
    SVFOP_CURRENT_USER: 'current_user',
    SVFOP_USER: 'user',
    SVFOP_SESSION_USER: 'session_user',
    SVFOP_CURRENT_CATALOG: 'current_catalog',
    SVFOP_CURRENT_SCHEMA: 'current_schema',
  };
  return (typeof op === 'string' ? names[op] : undefined) ?? UNNAMED;
}

function xmlName(op: unknown): string {
  const names: Record<string, string> = {
    IS_XMLCONCAT: 'xmlconcat',
    IS_XMLELEMENT: 'xmlelement',
    IS_XMLFOREST: 'xmlforest',
    IS_XMLPARSE: 'xmlparse',
    IS_XMLPI: 'xmlpi',
    IS_XMLROOT: 'xmlroot',
    IS_XMLSERIALIZE: 'xmlserialize',
    IS_DOCUMENT: UNNAMED,
  };
  return (typeof op === 'string' ? names[op] : undefined) ?? UNNAMED;
}

function jsonFuncName(op: unknown): string {
  const names: Record<string, string> = {
    JSON_EXISTS_OP: 'json_exists',
    JSON_QUERY_OP: 'json_query',
    JSON_VALUE_OP: 'json_value',
  };
  return (typeof op === 'string' ? names[op] : undefined) ?? UNNAMED;
}
