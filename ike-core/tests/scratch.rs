use hex_literal::hex;
use ike_core::crypto::CipherAlg;
#[test]
fn scratch() {
    let ka = hex!("8eb5d76900271f34e3c30bb206c48ec270e45e1617b3f5a53fa04649bbb80e9c");
    let mut iv = hex!("4bbbe7eb28da9d945bac2627a7d3f3e6");
    let mut mm5 = hex!(
        "c6eb1b3b936d44001c73ae85e2addd1005100201000000000000004ce7d74868e8d8b55dd279878ff13f6aefd3186043b61c3e7f2d4407f4a3ca509e98ebbe9a3699fc28eb7c2a40b7f2cb62"
    );
    assert!(CipherAlg::Aes256.decrypt(&ka, &mut iv, &mut mm5[28..]));
    println!("MM5 {:02x?}", &mm5[28..]);
    let mut mm6 = hex!(
        "c6eb1b3b936d44001c73ae85e2addd1005100201000000000000004c5570f320482a76c590b223244b1efe27bb965528f706c0002e34fca3b30bc028c193f5f49c12343c075dd2128c18da99"
    );
    assert!(CipherAlg::Aes256.decrypt(&ka, &mut iv, &mut mm6[28..]));
    println!("MM6 {:02x?}", &mm6[28..]);
    // QM1
    let h = ike_core::crypto::HashAlg::Sha1;
    let last = hex!("c193f5f49c12343c075dd2128c18da99");
    let iv2 = ike_core::crypto::phase2_iv(h, &last, 0xb1adcadb, 16);
    println!("QM IV {:02x?}", iv2.as_slice());
    let mut iv = [0u8; 16];
    iv.copy_from_slice(iv2.as_slice());
    let mut qm1 = hex!(
        "c6eb1b3b936d44001c73ae85e2addd1008102001b1adcadb000000ccfc7cb5149eea03140de3cc04ecd4aabed506c81060327f3580b64db81d04ff6e5924d56965b833e1c2fc404ba7db9c507dcb439de1272f375e02596ac3819fdffb81808360b2d883d5772996a70775b7a0a4bce659359cba35576a4caf2bd2985fa4fa1f73387b0735981a0f3bb3a597734ffcc4ac81fe0f7c3b8a6b45407e2e48be9bf14b1d6201f56fd01af5beaa3e791e6bb967cc0b367cc5b35cbb89efc03e89bbb7238b9440ee61e78bcca142b1"
    );
    assert!(CipherAlg::Aes256.decrypt(&ka, &mut iv, &mut qm1[28..]));
    println!("QM1 {}", hexs(&qm1[28..]));
    let mut qm2 = hex!(
        "c6eb1b3b936d44001c73ae85e2addd1008102001b1adcadb000000cca15af879dd68bcf3454b53eee6009911f1d072d87061c1c29dc69b362514b58400968df3f5f8dd5c4eed5d26a5892925114a6f3e9f789bf0854991036895910f31ec3d024dd6592bde505c53ba0189bb06a147af7dad95c587ad4463718f42861ce41c1b27be28c156f4e2dd9113570b0e8dd96665066cf090457965e03f9d1cd44797a6c914067eac4531d156e3b4c662631e9e3ff9dc0610f20d0a42291139750279381e4c8a06f6d083b3dba89710"
    );
    assert!(CipherAlg::Aes256.decrypt(&ka, &mut iv, &mut qm2[28..]));
    println!("QM2 {}", hexs(&qm2[28..]));
    let mut qm3 = hex!(
        "c6eb1b3b936d44001c73ae85e2addd1008102001b1adcadb0000003c089249089eb55634d44dcc637ae7d6dcd292d745d39086298c103d70fa04852f"
    );
    assert!(CipherAlg::Aes256.decrypt(&ka, &mut iv, &mut qm3[28..]));
    println!("QM3 {}", hexs(&qm3[28..]));
    let iv2 = ike_core::crypto::phase2_iv(h, &last, 0x8d28664b, 16);
    let mut iv = [0u8; 16];
    iv.copy_from_slice(iv2.as_slice());
    let mut d1 = hex!(
        "c6eb1b3b936d44001c73ae85e2addd10081005018d28664b0000004cba8f17ea8c85d3668baae4252de42bfec9bfb1b71e481e209eac1550f5d6e022f60f7a5a123e9c47ab94d6d449f585d1"
    );
    assert!(CipherAlg::Aes256.decrypt(&ka, &mut iv, &mut d1[28..]));
    println!("D1 {}", hexs(&d1[28..]));
}
fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
