import type { Bootloader, BootloaderSelection } from '../contracts/bootloader.js';
import { NoBootloaderError } from '../errors/index.js';
import type { OperationContext } from '../events.js';

/**
 * The configuration's choice (`[bootloader] plugins`): `auto` takes the first offered plugin whose
 * bootloader is present, in the front end's order; names take the first named one that is present
 * (none present is an error: the admin asked for it); `none` uses no bootloader. With `auto` and no
 * bootloader present, imgbased writes no entries and says so with a warning.
 */
export class ConfiguredBootloaders implements BootloaderSelection {
  private chosen: Promise<Bootloader | undefined> | undefined;

  constructor(
    private readonly offered: readonly Bootloader[],
    private readonly configured: readonly string[],
  ) {}

  select(context?: OperationContext): Promise<Bootloader | undefined> {
    this.chosen ??= this.choose(context);
    return this.chosen;
  }

  private async choose(context?: OperationContext): Promise<Bootloader | undefined> {
    const names = this.configured.length === 0 ? ['auto'] : this.configured;
    if (names.includes('none')) return undefined;
    const auto = names.includes('auto');
    const candidates = auto ? this.offered : names.map((n) => this.offered.find((b) => b.name === n));
    for (const candidate of candidates) {
      if (candidate && (await candidate.detect(context))) return candidate;
    }
    if (auto) return undefined;
    throw new NoBootloaderError(names);
  }
}
