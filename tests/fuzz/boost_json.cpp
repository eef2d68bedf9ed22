// Boost.JSON compiled into the requests target rather than linked from Debian's
// libboost_json: built here, its parser gets the coverage instrumentation and ASan, so the
// fuzzer learns JSON's structure instead of guessing it.
#include <boost/json/src.hpp>
