"use strict";
// Loads an optional peer package (@azure/core-auth, ...) when the user has it installed.

function optionalRequire(name) {
  try {
    return require(name);
  } catch {
    return undefined;
  }
}

module.exports = { optionalRequire };
