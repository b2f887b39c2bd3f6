export { GrubBlsBootloader } from './grub-bls.js';
