/**
 * @packageDocumentation
 * imgbased's OS images: IMAGE (a path or an http(s):// URL) resolved to a verified local file
 * (UrlOrFileImageSource), its format told by content, checked, named (NVR), sized and installed onto a
 * block device (OsImageInstaller).
 */

export { detectMagic, HEADER_BYTES, type Magic } from './magic.js';
export { nvrFromFileName, nvrFromOsRelease, parseOsRelease } from './nvr-sources.js';
export { OsImageInstaller } from './os-image-installer.js';
export { sha256ForFile } from './sha256-file.js';
export { UrlOrFileImageSource } from './url-or-file-image-source.js';
