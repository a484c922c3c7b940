/* The blocking hook (see blocking.h). */
#include "gpufs/blocking.h"

static gpointer hook; /* void (*)(void), atomic */

void gpufs_blocking_set_hook(void (*fn)(void))
{
	g_atomic_pointer_set(&hook, (gpointer)fn);
}

void gpufs_blocking(void)
{
	void (*fn)(void) = (void (*)(void))g_atomic_pointer_get(&hook);

	if (fn)
		fn();
}

void gpufs_blocking_lock(GMutex *mutex)
{
	if (g_mutex_trylock(mutex))
		return;
	gpufs_blocking();
	g_mutex_lock(mutex);
}
