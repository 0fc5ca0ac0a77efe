// parseUsage's results, built in JS from the columns wasm writes (crates/core/src/record_output.rs:
// numbers in one Float64Array, dictionary indices in one Uint32Array, `len` a column, and each
// dictionary's distinct values). One call from wasm builds every record: a call into JS per
// record or per field cost more than the records themselves, and records written as one JSON
// text for JSON.parse cost the write, the text's decode and the parse (docs/performance.md).
// Records share the dictionaries' strings; every object in them (subject, networks, attributes)
// is the record's own, as JSON.parse would make it.

const copy = (value) => (value === null ? null : { ...value });

/** Record objects in the record form's field order. `numbers`: quantity, allowance (NaN = none);
 * `indices`: one column per dictionary (carrier, subject, granularity, service, direction, unit,
 * zone, roaming, homeNetwork, visitedNetwork, ratePlan, ratePlanVersion, source, attributes),
 * then start and end into the last dictionary, of times. Both may be views of wasm memory: they
 * are read here and not kept. */
export function buildRecords(len, numbers, indices, dicts) {
  const [carrier, subject, granularity, service, direction, unit, zone, roaming, homeNetwork,
    visitedNetwork, ratePlan, ratePlanVersion, source, attributes, times] = dicts;
  const n = len;
  const records = [];
  for (let i = 0; i < n; i++) {
    const allowance = numbers[n + i];
    records.push({
      carrier: carrier[indices[i]],
      subject: copy(subject[indices[n + i]]),
      start: times[indices[14 * n + i]],
      end: times[indices[15 * n + i]],
      granularity: granularity[indices[2 * n + i]],
      service: service[indices[3 * n + i]],
      direction: direction[indices[4 * n + i]],
      quantity: numbers[i],
      unit: unit[indices[5 * n + i]],
      zone: zone[indices[6 * n + i]],
      roaming: roaming[indices[7 * n + i]],
      homeNetwork: copy(homeNetwork[indices[8 * n + i]]),
      visitedNetwork: copy(visitedNetwork[indices[9 * n + i]]),
      ratePlan: ratePlan[indices[10 * n + i]],
      ratePlanVersion: ratePlanVersion[indices[11 * n + i]],
      allowance: Number.isNaN(allowance) ? null : allowance,
      source: source[indices[12 * n + i]],
      attributes: { ...attributes[indices[13 * n + i]] },
    });
  }
  return records;
}

/** Completes the columnar result's `columns` (`{<field>: {values}}` for every dictionary field)
 * with `length`, the typed arrays and each dictionary's `index`. `numbers` (start, end, quantity,
 * allowance) are copied out of wasm memory once, the four columns being views into that copy;
 * `indices` (the dictionary fields, in `names` order, 32 bits each) are copied into the narrowest
 * array that holds each field's indices, and a field with one value gets a zero-filled array
 * without a copy: a ThingSpace body's fourteen 32-bit index columns were 5.7 of the 9 MB this
 * copied, most of them one value repeated (docs/performance.md). */
export function completeColumns(columns, len, numbers, indices, names) {
  const floats = numbers.slice();
  columns.length = len;
  ['start', 'end', 'quantity', 'allowance'].forEach((name, k) => {
    columns[name] = floats.subarray(k * len, (k + 1) * len);
  });
  names.forEach((name, k) => {
    const column = columns[name];
    const distinct = column.values.length;
    const wide = indices.subarray(k * len, (k + 1) * len);
    column.index = distinct <= 1 ? new Uint8Array(len)
      : distinct <= 0x100 ? new Uint8Array(wide)
        : distinct <= 0x10000 ? new Uint16Array(wide) : wide.slice();
  });
}
