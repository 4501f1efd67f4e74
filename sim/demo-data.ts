/**
 * The rows behind the demo model (sim/demo-model.ts): 30 users, 24 products and 72 orders
 * of a small web shop. Every value comes from the row's index by fixed arithmetic, so each
 * run, each test and each `npm run dev` sees the same rows. Timestamps are UTC, written as
 * Looker's raw timeframe shows them (`YYYY-MM-DD HH:MM:SS`).
 */

/** A value in a table, or in a query's result. */
export type Cell = string | number | boolean | null;
/** One row of a table: column name to value. */
export type TableRow = Readonly<Record<string, Cell>>;

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD HH:MM:SS` for a UTC instant. */
export const timestampText = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/** The instant of a `YYYY-MM-DD HH:MM:SS` (or `YYYY-MM-DD`) text, read as UTC. */
export const timestampMs = (text: string): number => Date.parse(`${text.length === 10 ? `${text} 00:00:00` : text}Z`.replace(' ', 'T'));

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length]!;

const FIRST_NAMES = ['Ava', 'Ben', 'Chloe', 'Dev', 'Elena', 'Farid', 'Grace', 'Hiro', 'Isla', 'Jonas'] as const;
const LAST_NAMES = ['Park', 'Silva', 'Nguyen', 'Okafor', 'Rossi', 'Kowalski'] as const;
/** [state, country] */
const PLACES = [
  ['California', 'USA'],
  ['New York', 'USA'],
  ['Texas', 'USA'],
  ['Washington', 'USA'],
  ['Illinois', 'USA'],
  ['Ontario', 'Canada'],
  ['Quebec', 'Canada'],
] as const;
const TRAFFIC_SOURCES = ['Search', 'Email', 'Organic', 'Display', 'Facebook'] as const;

export const USERS: readonly TableRow[] = Array.from({ length: 30 }, (_, i) => {
  const first = pick(FIRST_NAMES, i);
  const last = pick(LAST_NAMES, i * 7 + 1);
  const [state, country] = pick(PLACES, i * 3);
  return {
    id: i + 1,
    name: `${first} ${last}`,
    email: `${first}.${last}${i + 1}@example.com`.toLowerCase(),
    state,
    country,
    age: 19 + ((i * 13) % 52),
    traffic_source: pick(TRAFFIC_SOURCES, i * 2 + (i >> 2)),
    // Sign-ups every 11 days from 2023-01-03, at a varying hour.
    created_at: timestampText(Date.UTC(2023, 0, 3) + i * 11 * DAY_MS + ((i * 5) % 24) * 3_600_000),
  };
});

/** [category, names, base price] */
const CATALOGUE = [
  ['Jackets', ['Rain Shell', 'Down Parka', 'Denim Jacket', 'Fleece Zip'], 89],
  ['Jeans', ['Slim Fit', 'Relaxed Fit', 'Bootcut', 'Skinny'], 59],
  ['Shoes', ['Trail Runner', 'Canvas Sneaker', 'Chelsea Boot', 'Loafer'], 74],
  ['Accessories', ['Wool Beanie', 'Leather Belt', 'Tote Bag', 'Sunglasses'], 24],
  ['Tops', ['Linen Shirt', 'Crew Tee', 'Hoodie', 'Polo'], 32],
  ['Swim', ['Board Shorts', 'Swimsuit', 'Rash Guard', 'Beach Towel'], 36],
] as const;
const BRANDS = ['Northwind', 'Acme Outfitters', 'Bluebird', 'Fjord & Co'] as const;

export const PRODUCTS: readonly TableRow[] = CATALOGUE.flatMap(([category, names, base], c) =>
  names.map((name, n) => {
    const i = c * names.length + n;
    const retail = base + ((i * 17) % 40) + 0.99;
    return {
      id: i + 1,
      name: `${pick(BRANDS, i)} ${name}`,
      category,
      brand: pick(BRANDS, i),
      retail_price: retail,
      cost: Math.round(retail * 45) / 100,
      is_on_sale: i % 5 === 2,
    };
  }),
);

const STATUSES = ['complete', 'complete', 'shipped', 'complete', 'processing', 'cancelled', 'complete', 'returned'] as const;

/** Orders every 2.5 days from 2024-01-02: 72 of them, to 2024-06-27. */
export const ORDERS: readonly TableRow[] = (() => {
  const rows = Array.from({ length: 72 }, (_, i) => ({
    id: 1001 + i,
    user_id: ((i * 7) % 30) + 1,
    status: pick(STATUSES, i * 3 + (i >> 3)),
    amount: 15 + ((i * 37) % 180) + (((i * 29) % 4) * 25) / 100,
    created_at: timestampText(Date.UTC(2024, 0, 2) + i * 2.5 * DAY_MS + ((i * 7) % 10) * 3_600_000),
  }));
  const firstOrderOf = new Map<number, number>();
  for (const order of rows) if (!firstOrderOf.has(order.user_id)) firstOrderOf.set(order.user_id, order.id);
  return rows.map((order) => ({ ...order, is_first_order: firstOrderOf.get(order.user_id) === order.id }));
})();
