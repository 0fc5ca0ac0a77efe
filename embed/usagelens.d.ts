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

/** Reads one carrier response body; see the README's JavaScript API. */
export function parseUsage(text: string, options?: { carrier?: CarrierName; subject?: string | { kind: string; id: string } }): {
  carrier: CarrierName;
  format: string;
  subject: { kind: string; id: string } | null;
  records: Array<Record<string, unknown>>;
  events: Array<Record<string, unknown>>;
  warnings: Array<{ message: string; field?: string; line?: number }>;
  hasMoreData?: boolean;
};

/** Loads the wasm module; call (and await) once before anything else. */
export default function init(moduleOrPath?: string | URL | Request | BufferSource | WebAssembly.Module): Promise<unknown>;
