// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * `files` may not import from the listed folders of src/ (any depth of ../).
 * @param {string} files
 * @param {string[]} forbidden
 * @param {string} why
 */
function layer(files, forbidden, why) {
  return [{ files: [files], rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: `^(\\.\\./)+(${forbidden.join('|')})/`, message: why }] }] } }];
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bin/', '.bench-build/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js', 'test/support/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/only-throw-error': 'off',
    },
  },
  // The layers (docs/architecture.md): a layer imports only layers below it.
  ...layer('src/steps/**', ['cli', 'commands', 'drill', 'verify', 'report'], 'a step knows nothing of the commands, the drill, verify or the report'),
  ...layer('src/aws/**', ['steps', 'state', 'engine', 'cli', 'commands', 'drill', 'verify', 'report', 'plan'], 'src/aws is SDK plumbing: it knows no step, state or engine'),
  ...layer('src/engine/**', ['cli', 'commands'], 'the engine never reaches up into the command layer'),
  ...layer('src/lib/**', ['cli', 'commands', 'engine', 'steps', 'state', 'drill', 'verify', 'report', 'plan', 'aws', 'iam', 'config', 'io', 'errors'], 'lib/ is a leaf'),
  ...layer('src/errors/**', ['cli', 'commands', 'engine', 'steps', 'state', 'drill', 'verify', 'report', 'plan', 'iam', 'config', 'io'], 'errors/ knows only how AWS words its errors'),
  ...layer('src/state/**', ['cli', 'commands', 'engine', 'drill', 'verify', 'report', 'plan'], 'the state store holds data (typed by the steps\' output types); it runs nothing'),
  ...layer('src/switch/**', ['cli', 'commands', 'verify', 'report', 'plan', 'engine'], 'the switch uses the drill\'s reads; only the command layer knows the CLI'),
  ...layer('src/{drill,verify,report,plan,iam,config,io}/**', ['cli', 'commands'], 'only the command layer knows the CLI'),
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
