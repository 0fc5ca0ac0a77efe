// The example operator portal: mounts usagelens in portal mode for the signed-in customer's
// SIMs. A real portal takes the subjects from its own customer records and hands out carrier
// credentials from its backend; these are the carrier sandbox's demo values.
import init, { mountUsageViewer } from './usagelens.js';

const params = new URLSearchParams(location.search);
const theme = ['light', 'dark'].includes(params.get('theme')) ? params.get('theme') : 'auto';
if (theme !== 'auto') document.documentElement.dataset.theme = theme;

const sandboxSecrets = {
  telecomx: { user: 'demo', secret: 'demo' },
  thingspace: { key: 'demo-key', keySecret: 'demo-secret', user: 'demo', secret: 'demo' },
  'control-center': { user: 'demo', secret: 'demo-api-key' },
  'vodafone-vrs': { user: 'demo-client', secret: 'demo-secret' },
};

const events = document.getElementById('events');
const element = document.getElementById('usage');
for (const type of ['usagelens:loaded', 'usagelens:error']) {
  element.addEventListener(type, (e) => {
    events.textContent += `${type} ${JSON.stringify(e.detail)}\n`;
  });
}

await init();
window.portal = mountUsageViewer(element, {
  mode: 'portal',
  theme,
  units: 'decimal',
  // This page's server proxies each carrier under /<carrier> (deploy/nginx).
  proxy: { mode: 'carrier', url: location.origin },
  billingDay: 1,
  subjects: [
    { carrier: 'thingspace', kind: 'iccid', id: '89148000000000000019', label: 'Delivery van 3',
      // ThingSpace does not report the plan: the portal knows it (5 GB of data a month).
      allowances: { data: 5_000_000_000 } },
    { carrier: 'telecomx', id: '5c1b21b5a90b02f846f7bde1', label: 'Sales phone (Ada)' },
  ],
  // Asked once per carrier on each refresh, so secrets stay with the portal.
  getCredentials: async (carrier) => sandboxSecrets[carrier],
});
window.portalReady = true;
