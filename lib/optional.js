"use strict";
// Optional peer packages (@azure/core-auth, ...): used when the user has them installed, and loaded only when first
// needed, since loading them costs as much as the official SDK's whole import.

function optionalRequire(name) {
  try {
    return require(name);
  } catch {
    return undefined;
  }
}

/**
 * A class that stands for the class `resolve()` returns (a peer's class, or our look-alike without the peer), looked
 * up the first time it is constructed or asked about with `instanceof`. Instances are made by that class (with this
 * one's prototype, which then inherits from it), so `instanceof` holds for both, and subclasses work.
 */
function lazyClass(name, resolve, statics = {}) {
  let resolved;
  const load = () => {
    if (resolved === undefined) {
      resolved = resolve();
      Object.setPrototypeOf(Lazy.prototype, resolved.prototype);
      Object.setPrototypeOf(Lazy, resolved);
    }
    return resolved;
  };
  const Lazy = {
    [name]: class {
      constructor(...args) {
        return Reflect.construct(load(), args, new.target);
      }
      static [Symbol.hasInstance](value) {
        return this === Lazy ? value instanceof load() : Function.prototype[Symbol.hasInstance].call(this, value);
      }
    },
  }[name];
  Object.assign(Lazy, statics);
  return Lazy;
}

module.exports = { optionalRequire, lazyClass };
