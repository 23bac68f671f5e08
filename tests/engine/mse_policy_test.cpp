// The encryption policy glue of src/peer/mse_stream: which MSE methods each policy
// offers or accepts, and the per-address memory of which way of connecting worked.
#include <gtest/gtest.h>

#include "peer/mse_stream.hpp"

using pw::peer::EncryptionMemory;
using pw::peer::mse_methods;
using tcp = boost::asio::ip::tcp;

TEST(MsePolicy, MethodsPerPolicy) {
    EXPECT_EQ(mse_methods(piecewise::Encryption::prefer),
              pw::crypto::mse_plaintext | pw::crypto::mse_rc4);
    EXPECT_EQ(mse_methods(piecewise::Encryption::require), pw::crypto::mse_rc4);
    EXPECT_EQ(mse_methods(piecewise::Encryption::disable), 0u);
}

TEST(MsePolicy, MemoryIsPerAddressAndPort) {
    EncryptionMemory m;
    tcp::endpoint a(boost::asio::ip::make_address("127.0.0.2"), 6881);
    tcp::endpoint b(boost::asio::ip::make_address("127.0.0.2"), 6882);
    EXPECT_FALSE(m.get(a).has_value());
    m.set(a, false);
    EXPECT_EQ(m.get(a), false);
    EXPECT_FALSE(m.get(b).has_value());
    m.set(b, true);
    m.set(a, true);
    EXPECT_EQ(m.get(a), true);
    EXPECT_EQ(m.get(b), true);
}

TEST(MsePolicy, MemoryIsBounded) {
    EncryptionMemory m;
    for (int i = 0; i < 120000; ++i)
        m.set(tcp::endpoint(boost::asio::ip::address_v4(0x7f000000u + static_cast<unsigned>(i)), 1),
              true);
    // Forgetting is allowed (it costs one retry); growing without bound is not.
    int remembered = 0;
    for (int i = 0; i < 120000; ++i)
        if (m.get(tcp::endpoint(boost::asio::ip::address_v4(0x7f000000u + static_cast<unsigned>(i)),
                                1)))
            ++remembered;
    EXPECT_LE(remembered, 50000);
    EXPECT_GT(remembered, 0);
}
