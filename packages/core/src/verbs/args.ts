// The arguments of each verb, as the daemon's job requests and routes name them. Their JSON Schema
// is what the daemon validates requests with, so these bounds are the API's: changing one changes
// which requests are refused.
import * as z from 'zod/mini';

const described = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description));

/** A base, layer or NVR name (the engine checks its form). */
const nameText = z.string().check(z.minLength(1), z.maxLength(255));
/** A path or volume spec, which may be longer than a name. */
const pathText = z.string().check(z.minLength(1), z.maxLength(4096));
/** Kernel arguments, as the CLI's repeated --append/--delete take them (the engine checks each one). */
const kernelArgs = (description: string) =>
  described(z.array(z.string().check(z.minLength(1), z.maxLength(1024))).check(z.maxLength(64)), description);

export const NoArgs = z.strictObject({});
/** A read verb whose route has a `:name` parameter. */
export const NameArg = z.strictObject({ name: nameText });
/** A boot verb acting on one layer's entry. */
export const LayerArg = z.strictObject({ layer: nameText });

export const InitLayoutArgs = z.strictObject({ nvr: nameText, from: z.optional(pathText) });
export const AddBaseArgs = z.strictObject({
  nvr: nameText,
  size: described(z.string().check(z.minLength(1), z.maxLength(32)), 'e.g. 1G (MiB without a unit)'),
  image: z.optional(described(pathText, 'an ext4 image on the host')),
});
export const RemoveBaseArgs = z.strictObject({ name: nameText });
/** `--trial`: the layer boots next as a trial instead of becoming the default (docs/trial-boots.md). */
const trialFlag = z.optional(
  described(z.boolean(), 'boot it next as a trial: it becomes the default only once its checks pass'),
);
export const AddLayerArgs = z.strictObject({ from: z.optional(nameText), trial: trialFlag });
export const SetDefaultArgs = z.strictObject({ layer: nameText, trial: trialFlag });
export const EditKernelArgsArgs = z.strictObject({
  layer: nameText,
  append: z.optional(kernelArgs('arguments to add (key=value replaces the key’s value)')),
  delete: z.optional(kernelArgs('arguments to take out (a bare key takes every value)')),
});
export const UpdateArgs = z.strictObject({
  image: described(pathText, 'an image file on the host, or an http(s):// URL'),
  nvr: z.optional(described(nameText, 'the new base’s NVR (default: the image’s os-release, else its file name)')),
  format: z.optional(z.enum(['auto', 'ext4', 'squashfs', 'tar'])),
  sha256: z.optional(described(z.string().check(z.regex(/^[0-9a-fA-F]{64}$/)), 'the image’s SHA-256, in hex')),
  from: z.optional(described(nameText, 'the layer whose state is carried over (default: the running layer)')),
  keep: z.optional(described(z.int().check(z.minimum(1), z.maximum(1000)), 'bases kept after the update')),
});
export const RollbackArgs = z.strictObject({
  to: z.optional(described(nameText, 'the layer to boot by default (default: the previous base’s newest)')),
});
export const PinBaseArgs = z.strictObject({ name: nameText });

/** A separate volume's mount point (the engine checks its form). */
const volumePathText = described(pathText, 'an absolute mount point, e.g. /var/log');
export const VolumePathArg = z.strictObject({ path: volumePathText });
export const CreateVolumeArgs = z.strictObject({
  path: volumePathText,
  size: described(z.string().check(z.minLength(1), z.maxLength(32)), 'e.g. 4G (MiB without a unit)'),
});
export const MountLayerArgs = z.strictObject({
  name: nameText,
  directory: z.optional(described(pathText, 'where to mount it (default: /run/imgbased/layers/NAME)')),
  rw: z.optional(described(z.boolean(), 'read-write (never a base or the running layer)')),
});
export const DiffLayersArgs = z.strictObject({
  name: nameText,
  with: z.optional(described(nameText, 'the base or layer compared with (default: the base of name)')),
  content: z.optional(described(z.boolean(), 'unified diffs of changed text files')),
});
