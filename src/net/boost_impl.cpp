// The compiled half of Asio, Asio's SSL layer and Beast. cmake/TbDependencies.cmake defines
// BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION for every target, so
// their non-template code (schedulers, reactors, error categories, the HTTP parser, WebSocket
// framing) is built once here instead of inline in each of the ~60 translation units that
// include them: a fifth less build time on a 2-core machine, identical code at run time.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
