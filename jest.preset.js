/**
 * Shared Jest preset. Usage in a package: `module.exports = require('../../jest.preset.js')(__dirname)`.
 * - TypeScript is compiled with SWC (fast; type-checking happens in `npm run build`).
 * - `@diaryx-sync/<pkg>` resolves to `libs|apps/<pkg>/src` so tests never need a build of deps.
 */
const path = require('node:path');
const fs = require('node:fs');

const root = __dirname;

/**
 * `@diaryx-sync/<pkg>` → `src/index.ts`, and every sub-path of the package's `exports`
 * (`@diaryx-sync/<pkg>/<sub>`) → the `src/*.ts` file its `dist/*.js` is built from.
 */
function workspaceMappings() {
  const map = {};
  for (const dir of ['libs', 'apps']) {
    const abs = path.join(root, dir);
    if (!fs.existsSync(abs)) continue;
    for (const name of fs.readdirSync(abs)) {
      const src = path.join(abs, name, 'src', 'index.ts');
      if (fs.existsSync(src)) map[`^@diaryx-sync/${name}$`] = src;
      const pkgFile = path.join(abs, name, 'package.json');
      if (!fs.existsSync(pkgFile)) continue;
      const exportsField = JSON.parse(fs.readFileSync(pkgFile, 'utf8')).exports ?? {};
      for (const [sub, target] of Object.entries(exportsField)) {
        if (sub === '.' || !sub.startsWith('./')) continue;
        const built = typeof target === 'string' ? target : target.default;
        const source = path.join(abs, name, built.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
        map[`^@diaryx-sync/${name}/${sub.slice(2)}$`] = source;
      }
    }
  }
  return map;
}

module.exports = (projectDir, overrides = {}) => ({
  displayName: path.basename(projectDir),
  rootDir: projectDir,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/src/**/*.spec.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleNameMapper: workspaceMappings(),
  testTimeout: 30000,
  ...overrides,
});
