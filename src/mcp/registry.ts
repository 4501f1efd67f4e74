/**
 * Every tool the MCP server offers, in the order tools/list lists them. A new tool is one
 * file in tools/ and one line here.
 */
import type { Tool } from './tool.ts';
import { getDashboards } from './tools/dashboards.ts';
import { getDimensions, getFilters, getMeasures, getParameters } from './tools/fields.ts';
import { getLooks, runLook } from './tools/looks.ts';
import { makeLook } from './tools/make-look.ts';
import { getExplores, getModels } from './tools/models.ts';
import { query, querySql, queryUrl } from './tools/query.ts';

export const TOOLS: readonly Tool[] = [
  getModels,
  getExplores,
  getDimensions,
  getMeasures,
  getFilters,
  getParameters,
  query,
  querySql,
  queryUrl,
  getLooks,
  runLook,
  getDashboards,
  makeLook,
];
