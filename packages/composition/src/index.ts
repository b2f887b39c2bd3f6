/**
 * @packageDocumentation
 * imgbased's one composition root: the plugins this build ships (one line each), loading the plugins
 * the configuration names from the plugin directory, and the DI container the CLI and the daemon use.
 */
export { AvailablePlugins, availablePlugins, type OfferedPlugin } from './available-plugins.js';
export { buildContainer, type CompositionOptions, createEngine } from './container.js';
export { loadPluginFromDirectory, type ModuleImporter } from './plugin-directory.js';
export { checkPluginDefinition } from './plugin-module.js';
export { ConfiguredPersistenceSelection, OnFirstUseBootloaders, PerCallBootloaderSelection } from './selections.js';
export { loadShippedPlugins, SHIPPED_PLUGINS, type ShippedPlugin } from './shipped-plugins.js';
