/**
 * The io_uring engine: {@link org.orionos.uring.Ring} (one kernel ring, its mmaps, registered
 * buffers and files, allocation-free completion dispatch), {@link org.orionos.uring.Sqe} (the
 * submission flyweight with one method per operation), and {@link org.orionos.uring.Reactor} /
 * {@link org.orionos.uring.ReactorGroup} (threads that each own one ring).
 *
 * <p>Threading: a ring is used by one thread only (the one that created it; the kernel enforces
 * this with IORING_SETUP_SINGLE_ISSUER). Inside the data path results are {@code int}s holding a
 * value or a negative errno; {@link org.orionos.bindings.ErrnoException} is thrown only from setup
 * and registration calls.
 */
package org.orionos.uring;
