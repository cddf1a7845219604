/** Playground tests: the built /play app in headless Chromium against a real cluster. */
module.exports = require('../../jest.preset.js')(__dirname, { testTimeout: 180000 });
