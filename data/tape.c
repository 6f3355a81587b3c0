#include "tape.h"
