"use strict";
// The `odata` template tag: quotes and escapes string values, writes null/undefined as `null`.

function odata(strings, ...values) {
  let out = "";
  for (let i = 0; i < strings.length; i++) {
    out += strings[i];
    if (i >= values.length) continue;
    const value = values[i];
    if (value === null || value === undefined) {
      out += "null";
    } else if (typeof value === "string") {
      const escaped = value.replace(/'/g, "''");
      // A value already placed inside quotes by the template is only escaped.
      out += strings[i].trim().endsWith("'") ? escaped : `'${escaped}'`;
    } else {
      out += value;
    }
  }
  return out;
}

module.exports = { odata };
