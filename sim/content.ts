/**
 * What the simulated Looker has saved: queries, looks, dashboards and the folders they sit
 * in, and who may see them. A shared folder ("Shared" › "Demo e-commerce") holds the
 * seeded looks and dashboards, owned by the first user; each user also has a personal
 * folder that only they see, where their new looks go by default. Records are kept as
 * stored; the `present*` functions give them Looker's API shape (ILookWithQuery,
 * IDashboard, IFolderBase, IQuery) for a request's origin.
 */
import { MODELS } from './demo-model.ts';
import type { SimulatedUser } from './state.ts';

/** The Query fields a client may set (Looker's WriteQuery, read-only fields left out). */
export const QUERY_FIELDS = [
  'model',
  'view',
  'fields',
  'pivots',
  'fill_fields',
  'filters',
  'filter_expression',
  'sorts',
  'limit',
  'column_limit',
  'total',
  'row_total',
  'subtotals',
  'vis_config',
  'filter_config',
  'visible_ui_sections',
  'dynamic_fields',
  'client_id',
  'query_timezone',
] as const;

/** A saved query: what the client set, with its id and slug. */
export type StoredQuery = Readonly<Partial<Record<(typeof QUERY_FIELDS)[number], unknown>>> & { readonly id: string; readonly slug: string };

export interface Folder {
  id: string;
  name: string;
  parentId: string | null;
  /** The user whose personal folder this is. */
  personalOf: string | null;
  creatorId: string | null;
}

interface Content {
  id: string;
  title: string;
  description: string;
  userId: string;
  folderId: string;
  createdAt: string;
}
export interface Look extends Content {
  queryId: string;
}
export type Dashboard = Content;

const SHARED_ROOT = '1';
const USERS_ROOT = '2';
const DEMO_FOLDER = '7';
const SEEDED_AT = '2024-07-01T09:00:00.000+00:00';

/** The looks and dashboards every simulator starts with: [title, description, query]. */
const SEEDED_LOOKS: [string, string, Omit<StoredQuery, 'id' | 'slug'>][] = [
  ['Weekly revenue', 'Order revenue per week.', { model: 'demo', view: 'orders', fields: ['orders.created_week', 'orders.total_amount'], sorts: ['orders.created_week desc'], limit: '500' }],
  ['Active users', 'Customers by the month they signed up.', { model: 'demo', view: 'users', fields: ['users.created_month', 'users.count'], sorts: ['users.created_month desc'], limit: '500' }],
  [
    'Orders by status',
    'How many orders are in each status, and their mean amount.',
    { model: 'demo', view: 'orders', fields: ['orders.status', 'orders.count', 'orders.average_amount'], sorts: ['orders.count desc'], limit: '500' },
  ],
];
const SEEDED_DASHBOARDS: [string, string][] = [
  ['Sales', 'Revenue and orders by month, status and state.'],
  ['Customers', 'Sign-ups, where customers live and how they found the shop.'],
  ['Product catalogue', 'Categories, brands and prices.'],
];

export class DemoContent {
  readonly folders = new Map<string, Folder>();
  readonly queries = new Map<string, StoredQuery>();
  readonly looks = new Map<string, Look>();
  readonly dashboards = new Map<string, Dashboard>();
  readonly #users: ReadonlyMap<string, SimulatedUser>;

  constructor(users: readonly SimulatedUser[]) {
    this.#users = new Map(users.map((u) => [u.id, u]));
    const owner = users[0]!.id;
    for (const folder of [
      { id: SHARED_ROOT, name: 'Shared', parentId: null, personalOf: null, creatorId: null },
      { id: USERS_ROOT, name: 'Users', parentId: null, personalOf: null, creatorId: null },
      { id: DEMO_FOLDER, name: 'Demo e-commerce', parentId: SHARED_ROOT, personalOf: null, creatorId: owner },
      ...users.map((u, i) => ({ id: String(100 + i), name: u.display_name, parentId: USERS_ROOT, personalOf: u.id, creatorId: u.id })),
    ]) {
      this.folders.set(folder.id, folder);
    }
    SEEDED_LOOKS.forEach(([title, description, query], i) => {
      const queryId = String(101 + i);
      this.queries.set(queryId, { ...query, id: queryId, slug: `demo${queryId}` });
      const id = String(i + 1);
      this.looks.set(id, { id, title, description, userId: owner, folderId: DEMO_FOLDER, createdAt: SEEDED_AT, queryId });
    });
    SEEDED_DASHBOARDS.forEach(([title, description], i) => {
      const id = String(i + 1);
      this.dashboards.set(id, { id, title, description, userId: owner, folderId: DEMO_FOLDER, createdAt: SEEDED_AT });
    });
  }

  user(id: string): SimulatedUser | undefined {
    return this.#users.get(id);
  }

  personalFolderOf(userId: string): Folder | undefined {
    return [...this.folders.values()].find((f) => f.personalOf === userId);
  }

  /** Whether `userId` may see what is in the folder: the shared tree, or their own personal folder. */
  canSee(userId: string, folderId: string): boolean {
    for (let folder = this.folders.get(folderId); folder !== undefined; folder = this.folders.get(folder.parentId ?? '')) {
      if (folder.personalOf !== null) return folder.personalOf === userId;
      if (folder.id === SHARED_ROOT) return true;
    }
    return false;
  }

  addQuery(given: Record<string, unknown>): StoredQuery {
    const id = freshId(this.queries);
    const query: StoredQuery = { id, ...Object.fromEntries(QUERY_FIELDS.filter((f) => f in given).map((f) => [f, given[f]])), slug: `sim${id}` };
    this.queries.set(id, query);
    return query;
  }

  addLook(look: Omit<Look, 'id'>): Look {
    const stored = { ...look, id: freshId(this.looks) };
    this.looks.set(stored.id, stored);
    return stored;
  }
}

/** The smallest positive whole number not yet an id in `map`. */
function freshId(map: ReadonlyMap<string, unknown>): string {
  let n = 1;
  while (map.has(String(n))) n++;
  return String(n);
}

// --- the API's shapes ----------------------------------------------------------------------

/** `/explore/{model}/{view}?fields=…&f[…]=…&sorts=…&limit=…`, the Explore page a query opens. */
function exploreUrl(query: StoredQuery): string {
  const params = new URLSearchParams();
  if (Array.isArray(query.fields)) params.set('fields', query.fields.join(','));
  if (typeof query.filters === 'object' && query.filters !== null) {
    for (const [field, expression] of Object.entries(query.filters)) params.set(`f[${field}]`, String(expression));
  }
  if (Array.isArray(query.sorts) && query.sorts.length > 0) params.set('sorts', query.sorts.join(','));
  if (query.limit !== undefined && query.limit !== null) params.set('limit', String(query.limit));
  if (typeof query.query_timezone === 'string') params.set('query_timezone', query.query_timezone);
  return `/explore/${encodeURIComponent(String(query.model))}/${encodeURIComponent(String(query.view))}?${params}`;
}

/** IQuery: the stored fields, then its links on this Looker's web server. */
export function presentQuery(query: StoredQuery, origin: string): Record<string, unknown> {
  const url = exploreUrl(query);
  return {
    ...query,
    url,
    share_url: `${origin}/x/${query.slug}`,
    expanded_share_url: `${origin}${url}&origin=share-expanded`,
    has_table_calculations: false,
  };
}

export function presentFolder(folder: Folder): Record<string, unknown> {
  return {
    id: folder.id,
    name: folder.name,
    parent_id: folder.parentId,
    content_metadata_id: folder.id,
    creator_id: folder.creatorId,
    external_id: null,
    is_embed: false,
    is_personal: folder.personalOf !== null,
    is_personal_descendant: false,
    is_shared_root: folder.id === SHARED_ROOT,
    is_users_root: folder.id === USERS_ROOT,
  };
}

function presentContent(store: DemoContent, item: Content, kind: 'looks' | 'dashboards'): Record<string, unknown> {
  return {
    id: item.id,
    title: item.title,
    description: item.description,
    user_id: item.userId,
    user_name: store.user(item.userId)?.display_name ?? null,
    folder_id: item.folderId,
    folder: presentFolder(store.folders.get(item.folderId)!),
    content_metadata_id: `${kind}-${item.id}`,
    created_at: item.createdAt,
    updated_at: item.createdAt,
    deleted: false,
    favorite_count: 0,
    view_count: 0,
    url: `/${kind}/${item.id}`,
    can: { show: true, update: true, destroy: true, copy: true, run: true },
  };
}

/** ILookWithQuery, with ILookModel: `model.id` is what get_looks reads. */
export function presentLook(store: DemoContent, look: Look, origin: string): Record<string, unknown> {
  const query = store.queries.get(look.queryId)!;
  const model = MODELS.get(String(query.model));
  return {
    ...presentContent(store, look, 'looks'),
    model: { id: query.model, label: model?.label ?? null },
    query_id: look.queryId,
    query: presentQuery(query, origin),
    short_url: `/x/${query.slug}`,
    embed_url: `${origin}/embed/looks/${look.id}`,
    public: false,
    is_run_on_load: false,
  };
}

/** IDashboard, without its elements and filters. */
export function presentDashboard(store: DemoContent, dashboard: Dashboard): Record<string, unknown> {
  return {
    ...presentContent(store, dashboard, 'dashboards'),
    slug: `demo-dashboard-${dashboard.id}`,
    hidden: false,
    readonly: false,
    refresh_interval: null,
    query_timezone: null,
    preferred_viewer: 'dashboards-next',
  };
}
