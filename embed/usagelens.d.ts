// TypeScript declarations for the embeddable usagelens viewer (dist-embed/usagelens.js).

export type CarrierName = 'vodafone-vrs' | 'telecomx' | 'thingspace' | 'control-center';

export interface CarrierCredentials {
  /** Vodafone client id, TelecomX user, ThingSpace user name, Control Center user name. */
  user?: string;
  /** Vodafone client secret, TelecomX password, ThingSpace password, Control Center API key. */
  secret?: string;
  /** ThingSpace application key and secret. */
  key?: string;
  keySecret?: string;
  /** A bearer token (Vodafone, TelecomX) used instead of user and secret. */
  token?: string;
}

/** One SIM a portal shows (`mode: 'portal'`). */
export interface PortalSubject {
  carrier: CarrierName;
  /** The identifier the carrier's usage API takes: an IMSI (Vodafone), a 24-hex account
   * (TelecomX), an ICCID (Control Center), or for ThingSpace the kind below (default ICCID). */
  id: string;
  /** ThingSpace only: 'iccid' (default), 'imei', 'meid', 'mdn', 'msisdn', 'esn' or 'eid'. */
  kind?: string;
  /** The portal's name for the SIM ("Delivery van 3"); default "SIM <id>". */
  label?: string;
  /** The customer's plan, for carriers that do not report allowances (TelecomX does):
   * data in bytes, voice in seconds, SMS and MMS as counts. */
  allowances?: { data?: number; voice?: number; sms?: number; mms?: number };
}

export interface ViewerConfig {
  /** 'dashboard' (default): the analyst's dashboard. 'portal': the SIMs in `subjects` over the
   * customer's billing period, fetched on mount with `getCredentials` (or `credentials`);
   * no import, forms or filters beyond the period. Fixed once mounted. */
  mode?: 'dashboard' | 'portal';
  /** Portal mode: the SIMs shown (at least one). */
  subjects?: PortalSubject[];
  /** Portal mode: the day of the month billing periods start on, 1 to 28 (default 1). */
  billingDay?: number;
  /** Colours: follow the system (default), or force light or dark. */
  theme?: 'auto' | 'light' | 'dark';
  /** Byte units: KiB/MiB (binary, default) or kB/MB (decimal). */
  units?: 'binary' | 'decimal';
  /** Dates in UTC (default) or the browser's local time. */
  timeZone?: 'utc' | 'local';
  /** Only "en" is available. */
  locale?: string;
  /** Import only: no live fetch form. */
  readOnly?: boolean;
  /** Offer the built-in demo data (served from demo/ next to the page). Default true. */
  demo?: boolean;
  /** Carriers offered in the live fetch form. Default: all four. */
  carriers?: CarrierName[];
  /** How live requests reach the carriers: base URL + /<carrier> (default), a prefix followed by
   * the full target URL, or a template with {url}. */
  proxy?: { mode?: 'carrier' | 'prefix' | 'template'; url: string };
  /** Identifier pre-filled in the live fetch form. */
  subject?: string;
  /** Credentials per carrier, filled into the form. */
  credentials?: Partial<Record<CarrierName, CarrierCredentials>>;
  /** Asked for credentials when the user fetches, so the host keeps secrets out of the page's
   * storage; while set, the form shows no credential fields. */
  getCredentials?: (carrier: CarrierName) => CarrierCredentials | Promise<CarrierCredentials>;
}

export interface LoadSummary {
  name: string;
  carrier: CarrierName | null;
  records: number;
  error: string | null;
}

export interface ViewerHandle {
  /** Applies a new config; keys left out keep their value. Throws on invalid config, and on a
   * change of `mode`. In portal mode new `subjects` or `billingDay` fetch again. */
  update(config: ViewerConfig): void;
  /** Reads saved carrier responses (JSON or CSV text). Throws in portal mode. */
  loadResponses(texts: string[]): LoadSummary[];
  /** Removes the viewer's DOM, listeners and state. */
  unmount(): void;
  /** Frees the handle itself (after unmount). */
  free(): void;
}

/** Portal mode: one SIM fetched (`usagelens:loaded`, `error` null) or not (`usagelens:error`). */
export interface PortalSimDetail {
  /** The SIM's label, or "SIM <id>". */
  source: string;
  carrier: CarrierName;
  subject: string;
  records: number;
  totalRecords: number;
  /** First and last day fetched, YYYY-MM-DD. */
  period: [string, string];
  /** The whole story for the host's logs and support: carrier, message, HTTP status, code. */
  error: string | null;
  kind: 'invalid-input' | 'auth' | 'forbidden' | 'not-found' | 'bad-request' | 'rate-limited' | 'server'
    | 'timeout' | 'network' | 'cancelled' | 'bad-response' | 'paging-stalled' | 'credentials' | null;
  httpStatus: number | null;
  carrierCode: string | null;
  /** What the customer was shown, e.g. "We could not reach your carrier; try again in a minute." */
  customerMessage: string | null;
}

/** Events dispatched on the mount element (they bubble). */
export interface UsageLensEvents {
  'usagelens:loaded': CustomEvent<{ source: string; carrier: CarrierName | null; records: number; totalRecords: number; error: null } | PortalSimDetail>;
  'usagelens:error': CustomEvent<{ source: string; carrier: CarrierName | null; records: number; totalRecords: number; error: string } | PortalSimDetail>;
  /** detail: the filters as a URL query string, e.g. "service=data&roaming=yes". */
  'usagelens:filterchange': CustomEvent<string>;
}

/** Mounts a viewer inside `element`, in an open shadow root that holds its styles (nothing leaks
 * either way). Throws an Error naming the bad key or value. */
export function mountUsageViewer(element: HTMLElement, config?: ViewerConfig): ViewerHandle;

export interface UsageNetwork { mcc: string | null; mnc: string | null; country: string | null; name: string | null }

/** One dictionary-encoded column: the distinct values, and each record's index into them, in
 * the narrowest array that holds every index (`Uint8Array` up to 256 values, `Uint16Array` up to
 * 65,536, else `Uint32Array`). */
export interface DictionaryColumn<T> {
  values: T[];
  index: Uint8Array | Uint16Array | Uint32Array;
}

/** The records of a `parseUsage(text, {format: 'columns'})` result, one entry per record in
 * every column (record i is `carrier.values[carrier.index[i]]`, `quantity[i]`, ...). The fields
 * and values are those of the record form (schema/usage-record.schema.json). The four
 * `Float64Array`s are views into one buffer (transferring one's `buffer` to a worker transfers
 * the other three too). */
export interface UsageColumns {
  length: number;
  carrier: DictionaryColumn<CarrierName>;
  subject: DictionaryColumn<{ kind: string; id: string } | null>;
  /** Milliseconds since the epoch (`new Date(start[i])`); the record form's RFC 3339 `start`. */
  start: Float64Array;
  /** Milliseconds since the epoch, exclusive. */
  end: Float64Array;
  granularity: DictionaryColumn<'event' | 'day' | 'month' | 'cycle'>;
  service: DictionaryColumn<'data' | 'voice' | 'sms' | 'mms'>;
  direction: DictionaryColumn<'up' | 'down' | 'mo' | 'mt' | 'total'>;
  /** Exact integers (parseUsage throws for a quantity beyond 2^53 - 1). */
  quantity: Float64Array;
  unit: DictionaryColumn<'bytes' | 'seconds' | 'messages'>;
  zone: DictionaryColumn<string | null>;
  roaming: DictionaryColumn<boolean | null>;
  homeNetwork: DictionaryColumn<UsageNetwork | null>;
  visitedNetwork: DictionaryColumn<UsageNetwork | null>;
  ratePlan: DictionaryColumn<string | null>;
  ratePlanVersion: DictionaryColumn<string | null>;
  /** `NaN` where the record has no allowance. */
  allowance: Float64Array;
  source: DictionaryColumn<string | null>;
  attributes: DictionaryColumn<Record<string, string>>;
}

export interface ParseUsageOptions {
  carrier?: CarrierName;
  subject?: string | { kind: string; id: string };
  /** `'records'` (default): one object per record; `'columns'`: typed arrays and dictionaries. */
  format?: 'records' | 'columns';
}

interface ParseUsageResultBase {
  carrier: CarrierName;
  format: string;
  subject: { kind: string; id: string } | null;
  events: Array<Record<string, unknown>>;
  warnings: Array<{ message: string; field?: string; line?: number }>;
  hasMoreData?: boolean;
}

/** Reads one carrier response body (text, or a file's bytes, decoded like a dropped file: BOM, UTF-8,
 * UTF-16 or Windows-1252, a guessed encoding being the first warning); see the README. */
export function parseUsage(text: string | Uint8Array | ArrayBuffer, options: ParseUsageOptions & { format: 'columns' }): ParseUsageResultBase & { columns: UsageColumns };
export function parseUsage(text: string | Uint8Array | ArrayBuffer, options?: ParseUsageOptions & { format?: 'records' }): ParseUsageResultBase & {
  records: Array<Record<string, unknown>>;
};

/** Loads the wasm module; call (and await) once before anything else. */
export default function init(moduleOrPath?: string | URL | Request | BufferSource | WebAssembly.Module): Promise<unknown>;
