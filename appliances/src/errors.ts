/**
 * Error catalog of the appliance builders (`npm run build:appliances`, `storm-appliance`): `APPL_ERR_*`.
 *
 * @example
 * throw ApplErr.APPL_ERR_LAYER_INVALID('hello-web: no /etc/storm/layers/hello-web');
 */
import { defineErrors } from '../../common/errors.js';

export const ApplErr = defineErrors({
  APPL_ERR_USAGE: { status: 400, message: 'bad command line' },
  APPL_ERR_COMMAND: { status: 500, message: 'command failed' },
  APPL_ERR_KERNEL_PACKAGE: { status: 500, message: 'cannot resolve the kernel package' },
  APPL_ERR_MODULE_MISSING: { status: 500, message: 'kernel module not found' },
  APPL_ERR_BUSYBOX: { status: 500, message: 'unusable busybox' },
  APPL_ERR_LAYER_INVALID: { status: 500, message: 'invalid layer source' },
  APPL_ERR_CPIO: { status: 500, message: 'bad cpio archive' },
  APPL_ERR_RECIPE_INVALID: { status: 400, message: 'invalid recipe' },
  APPL_ERR_RECIPE_STEP: { status: 500, message: 'recipe step failed' },
  APPL_ERR_STACK: { status: 500, message: 'cannot assemble the build stack' },
  APPL_ERR_DEBOOTSTRAP: { status: 500, message: 'debootstrap failed' },
});
