export { SystemdBootBootloader } from './systemd-boot.js';
