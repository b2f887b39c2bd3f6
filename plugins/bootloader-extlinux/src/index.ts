export { ExtlinuxBootloader } from './extlinux.js';
