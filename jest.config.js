/**
 * Root Jest configuration: one project per package. Each package's jest.config.js uses the
 * shared preset in jest.preset.js (SWC transform, workspace packages mapped to their sources).
 */
const fs = require('node:fs');
const path = require('node:path');

const projects = ['libs', 'apps'].flatMap((dir) =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .map((name) => path.join(dir, name))
        .filter((p) => fs.existsSync(path.join(p, 'jest.config.js')))
        .map((p) => `<rootDir>/${p}`)
    : [],
);
// Top-level projects (deploy validation tests) when they have a jest.config.js.
for (const dir of ['deploy']) {
  if (fs.existsSync(path.join(dir, 'jest.config.js'))) projects.push(`<rootDir>/${dir}`);
}

module.exports = {
  projects,
  // Integration tests share one PostgreSQL, one Redis and two cores: keep parallelism modest.
  maxWorkers: 2,
  // Global options are only read from the root config when running projects.
  testTimeout: 30000,
};
