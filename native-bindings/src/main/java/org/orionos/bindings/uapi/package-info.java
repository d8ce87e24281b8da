/**
 * Kernel and libc header holders, one class per header, in jextract's shape: constants named as in
 * C, nested struct classes with a {@code LAYOUT} named after the C tag. Every holder is proven
 * against the installed headers by the layout check ({@code org.orionos.bindings.check.LayoutChecker}
 * in this module's tests), which finds holders by their {@link org.orionos.bindings.CHeader}
 * annotation.
 *
 * <table>
 * <caption>Header to holder</caption>
 * <tr><th>header</th><th>holder</th></tr>
 * <tr><td>linux/io_uring.h</td><td>{@link org.orionos.bindings.uapi.IoUringH}</td></tr>
 * <tr><td>linux/nvme_ioctl.h</td><td>{@link org.orionos.bindings.uapi.NvmeIoctlH}</td></tr>
 * <tr><td>linux/vfio.h</td><td>{@link org.orionos.bindings.uapi.VfioH}</td></tr>
 * <tr><td>linux/nbd.h</td><td>{@link org.orionos.bindings.uapi.NbdH}</td></tr>
 * <tr><td>linux/nbd-netlink.h</td><td>{@link org.orionos.bindings.uapi.NbdNetlinkH}</td></tr>
 * <tr><td>linux/netlink.h, linux/genetlink.h</td><td>{@link org.orionos.bindings.uapi.NetlinkH}</td></tr>
 * <tr><td>linux/fs.h (block ioctls)</td><td>{@link org.orionos.bindings.uapi.FsH}</td></tr>
 * <tr><td>linux/blkzoned.h</td><td>{@link org.orionos.bindings.uapi.BlkzonedH}</td></tr>
 * <tr><td>fcntl.h, linux/falloc.h</td><td>{@link org.orionos.bindings.uapi.FcntlH}</td></tr>
 * <tr><td>sys/mman.h</td><td>{@link org.orionos.bindings.uapi.MmanH}</td></tr>
 * <tr><td>sys/socket.h, netinet/in.h, sys/un.h, sys/uio.h</td><td>{@link org.orionos.bindings.uapi.SocketH}</td></tr>
 * <tr><td>linux/stat.h (statx)</td><td>{@link org.orionos.bindings.uapi.StatxH}</td></tr>
 * <tr><td>sys/eventfd.h</td><td>{@link org.orionos.bindings.uapi.EventfdH}</td></tr>
 * <tr><td>linux/ioctl.h</td><td>{@link org.orionos.bindings.Ioctl}</td></tr>
 * <tr><td>nvme/types.h (libnvme; NVMe specifications)</td><td>{@link org.orionos.bindings.nvme.NvmeTypesH}</td></tr>
 * </table>
 */
package org.orionos.bindings.uapi;
