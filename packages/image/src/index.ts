/**
 * @packageDocumentation
 * imgbased's OS images: IMAGE (a path or an http(s):// URL) resolved to a verified local file, its format
 * told by content, checked, named (NVR) and sized, and installed onto a block device.
 */

export { UrlOrFileImageSource } from './url-or-file-image-source.js';
