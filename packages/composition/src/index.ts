/**
 * @packageDocumentation
 * imgbased's one composition root: the plugins this build ships (one line each), loading the plugins
 * the configuration names from the plugin directory, and the DI container the CLI and the daemon use.
 */
export { availablePlugins } from './available-plugins.js';
export { buildContainer, type CompositionOptions, createEngine } from './container.js';
export { loadPluginFromDirectory, type ModuleImporter } from './plugin-directory.js';
export { checkPluginDefinition } from './plugin-module.js';
export { ConfiguredPersistenceSelection, PerCallBootloaderSelection } from './selections.js';
export { SHIPPED_PLUGINS } from './shipped-plugins.js';
