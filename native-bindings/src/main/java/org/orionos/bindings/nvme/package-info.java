/**
 * The NVMe specifications' data structures and codes, shared by both NVMe transports (kernel
 * passthrough and the VFIO user-space driver): {@link org.orionos.bindings.nvme.NvmeTypesH} (Identify
 * data, log pages, opcodes, status codes; proven against libnvme's {@code nvme/types.h}),
 * {@link org.orionos.bindings.nvme.NvmeSqe} and {@link org.orionos.bindings.nvme.NvmeCqe} (queue
 * entries; proven against offsets transcribed from the base specification) and
 * {@link org.orionos.bindings.nvme.NvmeStatus} (status decoding).
 */
package org.orionos.bindings.nvme;
